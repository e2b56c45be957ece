package local

import (
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Outcome is how a step, or a whole run, ended.
type Outcome string

const (
	// Succeeded: the step exited 0 (a run: every step did).
	Succeeded Outcome = "Succeeded"
	// Failed: the step exited non-zero or could not start (a run: a step
	// failed or timed out).
	Failed Outcome = "Failed"
	// TimedOut: the step ran longer than --step-timeout and was stopped.
	TimedOut Outcome = "TimedOut"
	// Interrupted: the step was stopped because the run was interrupted
	// (SIGINT or SIGTERM); a run that was interrupted.
	Interrupted Outcome = "Interrupted"
	// Skipped: the step never started, because an earlier step failed or the
	// run was interrupted.
	Skipped Outcome = "Skipped"
)

// words is the outcome in a sentence: "succeeded", "timed out".
func (o Outcome) words() string {
	if o == TimedOut {
		return "timed out"
	}
	return strings.ToLower(string(o))
}

// StepResult is how one step of a run ended.
type StepResult struct {
	// Name of the step.
	Name string
	// Task is the index of the task holding the step.
	Task int
	// Parallel is true for a parallel step, false for a serial one.
	Parallel bool
	// Outcome of the step.
	Outcome Outcome
	// ExitCode of the step's process or container; nil when it never ran.
	ExitCode *int
	// Message explains a failure, a timeout or a skip.
	Message string
	// Start and Finish are when the step started and ended; zero when skipped.
	Start, Finish time.Time
}

// Duration is how long the step ran.
func (r StepResult) Duration() time.Duration {
	if r.Start.IsZero() {
		return 0
	}
	return r.Finish.Sub(r.Start)
}

// Status is the step's status in the API's vocabulary, as a Workplan's
// status.steps[] holds it.
func (r StepResult) Status() kubeciv1.StepStatus {
	st := kubeciv1.StepStatus{Name: r.Name, Task: int32(r.Task), Phase: r.Outcome.Phase(), Message: r.Message}
	if r.ExitCode != nil {
		code := int32(*r.ExitCode)
		st.ExitCode = &code
	}
	if !r.Start.IsZero() {
		st.StartTime = &metav1.Time{Time: r.Start}
		st.FinishTime = &metav1.Time{Time: r.Finish}
	}
	return st
}

// Result is a whole local run.
type Result struct {
	// Workflow and Workplan name the run; Namespace is the Workflow's.
	Workflow, Workplan, Namespace string
	// Runtime is the runtime that ran the steps: host, docker or podman.
	Runtime string
	// Workspace is the workspace directory on this machine; WorkspaceKept says
	// whether it is still there.
	Workspace     string
	WorkspaceKept bool
	// Outcome is Succeeded, Failed or Interrupted.
	Outcome Outcome
	// Steps holds one entry per step, in plan order.
	Steps []StepResult
	// Start and Finish are when the run started and ended.
	Start, Finish time.Time
}

// outcome is the run's outcome from its steps' and whether it was interrupted.
func outcome(steps []StepResult, interrupted bool) Outcome {
	if interrupted {
		return Interrupted
	}
	for _, s := range steps {
		if s.Outcome != Succeeded {
			return Failed
		}
	}
	return Succeeded
}

// Phase is the outcome in the API's vocabulary (a Workplan's
// status.steps[].phase): a step that timed out or was interrupted Failed, as
// its container would have on the cluster.
func (o Outcome) Phase() kubeciv1.StepPhase {
	switch o {
	case Succeeded:
		return kubeciv1.StepSucceeded
	case Skipped:
		return kubeciv1.StepSkipped
	}
	return kubeciv1.StepFailed
}
