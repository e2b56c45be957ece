package workplan_test

import (
	"slices"
	"testing"
	"time"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/controller/workplan"
	"github.com/kubeci/kubeci/internal/names"
)

// The Workflow's history limits keep the newest ended runs of each outcome
// and delete the older ones.
func TestHistoryLimitsDeleteTheOldestRuns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	wf := h.createWorkflow(func(wf *kubeciv1.Workflow) {
		wf.Spec.Steps = wf.Spec.Steps[:1] // one step, one task
		wf.Spec.SuccessfulRunsHistoryLimit = ptr.To[int32](1)
		wf.Spec.FailedRunsHistoryLimit = ptr.To[int32](1)
	})
	complete := func(name string) {
		h.createRun(wf, name)
		pod := names.TaskPod(name, 0)
		h.runPod(pod)
		h.endPod(pod, nil)
		h.waitPhase(name, kubeciv1.WorkplanCompleted)
		h.runCleanup(name, 1, 0)
		h.waitCleaned(name, kubeciv1.ReasonCleaned)
	}
	cancelled := func(wp *kubeciv1.Workplan) { wp.Spec.Cancelled = true }
	fail := func(name string) {
		h.createRun(wf, name, cancelled)
		h.waitCleaned(name, kubeciv1.ReasonNothingToClean)
	}
	// Runs end a minute apart on the controller's clock.
	for _, step := range []func(){
		func() { complete("completed-1") },
		func() { fail("failed-1") },
		func() { complete("completed-2") },
		func() { fail("failed-2") },
	} {
		step()
		h.clock.Step(time.Minute)
	}
	h.waitGone("completed-1")
	h.waitGone("failed-1")
	var runs kubeciv1.WorkplanList
	if err := h.c.List(h.ctx(), &runs, client.InNamespace(h.ns)); err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, wp := range runs.Items {
		left = append(left, wp.Name)
	}
	slices.Sort(left)
	if want := []string{"completed-2", "failed-2"}; !slices.Equal(left, want) {
		t.Errorf("runs left = %v, want %v", left, want)
	}
}
