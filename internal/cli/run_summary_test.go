package cli

import (
	"bytes"
	"testing"
	"time"

	"github.com/kubeci/kubeci/internal/golden"
	"github.com/kubeci/kubeci/internal/local"
)

// The summary that ends kubeci run: the run's task tree, as kubeci describe
// workplan draws it, and the outcome line.
func TestRunSummaryGolden(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ran := func(name string, task int, parallel bool, outcome local.Outcome, code int, from, took time.Duration, message string) local.StepResult {
		return local.StepResult{Name: name, Task: task, Parallel: parallel, Outcome: outcome, ExitCode: &code, Message: message,
			Start: start.Add(from), Finish: start.Add(from + took)}
	}
	skipped := func(name string, task int, parallel bool, why string) local.StepResult {
		return local.StepResult{Name: name, Task: task, Parallel: parallel, Outcome: local.Skipped, Message: why}
	}
	ms := time.Millisecond
	cases := []struct {
		golden string
		result local.Result
	}{{
		golden: "run-summary-design-doc.golden",
		result: local.Result{Outcome: local.Succeeded, Start: start, Finish: start.Add(206 * ms), Steps: []local.StepResult{
			ran("step-1", 0, false, local.Succeeded, 0, 0, 39*ms, ""),
			ran("step-2", 0, true, local.Succeeded, 0, 39*ms, 71*ms, ""),
			ran("step-3", 0, true, local.Succeeded, 0, 39*ms, 77*ms, ""),
			ran("step-4", 1, false, local.Succeeded, 0, 116*ms, 46*ms, ""),
			ran("step-5", 1, true, local.Succeeded, 0, 162*ms, 44*ms, ""),
		}},
	}, {
		golden: "run-summary-failing.golden",
		result: local.Result{Outcome: local.Failed, Start: start, Finish: start.Add(89 * ms), Steps: []local.StepResult{
			ran("build", 0, false, local.Succeeded, 0, 0, 45*ms, ""),
			ran("test", 0, false, local.Failed, 3, 45*ms, 43*ms, ""),
			skipped("publish", 0, true, "not started: step test did not succeed"),
		}},
	}, {
		golden: "run-summary-timed-out.golden",
		result: local.Result{Outcome: local.Failed, Start: start, Finish: start.Add(61051 * ms),
			Workspace: "/tmp/kubeci-workspace", WorkspaceKept: true, Steps: []local.StepResult{
				ran("prep", 0, false, local.Succeeded, 0, 0, 43*ms, ""),
				ran("slow", 0, true, local.TimedOut, 143, 43*ms, time.Minute+7*ms, "stopped: it ran longer than the step timeout (1m0s)"),
				ran("quick", 0, true, local.Failed, 127, 43*ms, 5*ms, "the command was not found"),
				skipped("after", 1, false, "not started: step slow did not succeed"),
			}},
	}, {
		golden: "run-summary-interrupted.golden",
		result: local.Result{Outcome: local.Interrupted, Start: start, Finish: start.Add(2 * time.Second), Steps: []local.StepResult{
			ran("build", 0, false, local.Interrupted, 130, 0, 2*time.Second, "stopped: the run was interrupted"),
			skipped("test", 1, false, "not started: the run was interrupted"),
		}},
	}}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			var out bytes.Buffer
			if err := writeRunSummary(&out, &tc.result); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, tc.golden, out.Bytes())
		})
	}
}
