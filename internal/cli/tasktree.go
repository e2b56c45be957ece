package cli

import (
	"fmt"
	"strconv"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// treeStep is one step of a run's task tree: its status in the API's
// vocabulary (a Workplan's status.steps[], or a local run's
// StepResult.Status), whether it is a parallel step, and how long it ran
// as the caller measures it ("" when it did not start).
type treeStep struct {
	kubeciv1.StepStatus
	Parallel bool
	Duration string
}

// taskTree draws a run's tasks and their steps, in plan order, each step
// with its kind, phase, exit code, duration and message; heading names each
// task's line. It is the one printer of a run's steps, for kubeci describe
// workplan and kubeci run's summary:
//
//	STEP       KIND      PHASE      EXIT  DURATION  MESSAGE
//	task 0 (pod my-workflow-x-task-0)
//	├─ step-1  serial    Succeeded  0     3s
//	└─ step-2  parallel  Failed     1     2s        boom
func taskTree(steps []treeStep, heading func(task int) string) []string {
	rows := make([]treeRow, len(steps))
	for i, s := range steps {
		exit := ""
		if s.ExitCode != nil {
			exit = strconv.Itoa(int(*s.ExitCode))
		}
		rows[i] = treeRow{Task: int(s.Task), Name: s.Name,
			Cells: []string{kindOf(s.Parallel), string(s.Phase), exit, s.Duration, firstLine(s.Message, 120)}}
	}
	return align(treeRows([]string{"STEP", "KIND", "PHASE", "EXIT", "DURATION", "MESSAGE"}, rows, heading))
}

// treeRow is a step's row in a tree of tasks: its task, its name and the
// cells after its name.
type treeRow struct {
	Task  int
	Name  string
	Cells []string
}

// treeRows lays rows (in plan order) out as a tree under the header (none
// when nil): a line naming each task (heading), then its steps, each name on
// a branch.
func treeRows(header []string, rows []treeRow, heading func(task int) string) [][]string {
	var out [][]string
	if header != nil {
		out = append(out, header)
	}
	for i, r := range rows {
		if i == 0 || rows[i-1].Task != r.Task {
			out = append(out, []string{heading(r.Task)})
		}
		branch := "├─ "
		if i == len(rows)-1 || rows[i+1].Task != r.Task {
			branch = "└─ "
		}
		out = append(out, append([]string{branch + r.Name}, r.Cells...))
	}
	return out
}

// kindOf names a step's kind: serial or parallel.
func kindOf(parallel bool) string {
	if parallel {
		return "parallel"
	}
	return "serial"
}

// taskHeading is a task's line in the tree: "task 0".
func taskHeading(task int) string { return fmt.Sprintf("task %d", task) }
