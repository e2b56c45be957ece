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
	rows := [][]string{{"STEP", "KIND", "PHASE", "EXIT", "DURATION", "MESSAGE"}}
	for i, s := range steps {
		if i == 0 || steps[i-1].Task != s.Task {
			rows = append(rows, []string{heading(int(s.Task))})
		}
		branch := "├─ "
		if i == len(steps)-1 || steps[i+1].Task != s.Task {
			branch = "└─ "
		}
		kind := "serial"
		if s.Parallel {
			kind = "parallel"
		}
		exit := ""
		if s.ExitCode != nil {
			exit = strconv.Itoa(int(*s.ExitCode))
		}
		rows = append(rows, []string{branch + s.Name, kind, string(s.Phase), exit, s.Duration, firstLine(s.Message, 120)})
	}
	return align(rows)
}

// taskHeading is a task's line in the tree: "task 0".
func taskHeading(task int) string { return fmt.Sprintf("task %d", task) }
