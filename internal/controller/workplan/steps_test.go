package workplan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// A run's end freezes its steps: a step whose container could not start
// failed (the API's "exited non-zero or could not run"), as it does in a
// local run; a step that never started for another reason is skipped; a
// running step is stopped and failed, saying why.
func TestEndSteps(t *testing.T) {
	steps := []kubeciv1.StepStatus{
		{Name: "done", Phase: kubeciv1.StepSucceeded},
		{Name: "no-image", Phase: kubeciv1.StepWaiting, Message: "ErrImagePull: pull access denied"},
		{Name: "running", Phase: kubeciv1.StepRunning},
		{Name: "later", Phase: kubeciv1.StepWaiting},
	}
	endSteps(steps, "cancelled: spec.cancelled was set")
	want := []kubeciv1.StepStatus{
		{Name: "done", Phase: kubeciv1.StepSucceeded},
		{Name: "no-image", Phase: kubeciv1.StepFailed, Message: "ErrImagePull: pull access denied"},
		{Name: "running", Phase: kubeciv1.StepFailed, Message: "stopped: cancelled: spec.cancelled was set"},
		{Name: "later", Phase: kubeciv1.StepSkipped},
	}
	if d := cmp.Diff(want, steps); d != "" {
		t.Errorf("steps (-want +got):\n%s", d)
	}
}
