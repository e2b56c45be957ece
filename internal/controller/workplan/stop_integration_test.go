package workplan_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/controller/workplan"
	"github.com/kubeci/kubeci/internal/names"
)

// Runs stopped from outside: cancelled, overdue, deleted, or their pod deleted.

// spec.cancelled stops the running pod and ends the run Failed/Cancelled;
// the workspace is cleaned once the pod has stopped.
func TestCancelStopsTheRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	run := h.createRun(h.createWorkflow(), "cancel").Name
	pod0 := names.TaskPod(run, 0)
	h.runPod(pod0)
	h.waitPhase(run, kubeciv1.WorkplanRunning)

	wp := &kubeciv1.Workplan{}
	if err := h.c.Get(h.ctx(), keyOf(h.ns, run), wp); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(wp.DeepCopy())
	wp.Spec.Cancelled = true
	if err := h.c.Patch(h.ctx(), wp, patch); err != nil {
		t.Fatal(err)
	}
	wp = h.waitPhase(run, kubeciv1.WorkplanFailed)
	if c := findCondition(wp, kubeciv1.ConditionSucceeded); c == nil || c.Reason != kubeciv1.ReasonCancelled {
		t.Errorf("Succeeded condition = %+v, want reason Cancelled", c)
	}
	if wp.Status.ObservedGeneration != wp.Generation {
		t.Errorf("observedGeneration = %d, want %d", wp.Status.ObservedGeneration, wp.Generation)
	}
	h.finishStoppedPod(pod0)
	h.runCleanup(run, 1, 0)
	h.waitCleaned(run, kubeciv1.ReasonCleaned)
	h.waitEvent(run, workplan.EventCancelled, "spec.cancelled")
	if !slices.Contains(h.pods(), pod0) {
		t.Error("a stopped pod must stay for its logs")
	}
}

// A run past activeDeadlineSeconds (on the injected clock, counted from the
// Workplan's creation) is stopped DeadlineExceeded.
func TestDeadlineStopsTheRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	run := h.createRun(h.createWorkflow(), "deadline", func(wp *kubeciv1.Workplan) {
		wp.Spec.ActiveDeadlineSeconds = ptr.To[int64](60)
	}).Name
	pod0 := names.TaskPod(run, 0)
	h.runPod(pod0)
	created := h.waitPhase(run, kubeciv1.WorkplanRunning).CreationTimestamp.Time

	// (That it is not stopped before is TestDecideRun's "a deadline to come
	// is waited for".)
	h.clock.SetTime(created.Add(61 * time.Second))
	h.poke(run)
	wp := h.waitPhase(run, kubeciv1.WorkplanFailed)
	if c := findCondition(wp, kubeciv1.ConditionSucceeded); c == nil || c.Reason != kubeciv1.ReasonDeadlineExceeded {
		t.Errorf("Succeeded condition = %+v, want reason DeadlineExceeded", c)
	}
	if !strings.Contains(wp.Status.Reason, "activeDeadlineSeconds (1m0s") {
		t.Errorf("reason %q does not explain the deadline", wp.Status.Reason)
	}
	h.finishStoppedPod(pod0)
	h.runCleanup(run, 1, 0)
	h.waitCleaned(run, kubeciv1.ReasonCleaned)
}

// A pod deleted from outside fails the run: while it terminates, and when it
// is gone at once (force-deleted while the operator was not looking).
func TestPodDeletedFromOutsideFailsTheRun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		force bool
	}{{"graceful", false}, {"forced", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, workplan.Options{})
			run := h.createRun(h.createWorkflow(), "lost-"+tc.name).Name
			pod0 := names.TaskPod(run, 0)
			h.runPod(pod0)
			h.waitRun(run, "pod recorded", func(wp *kubeciv1.Workplan) bool { return wp.Status.PodName == pod0 })
			if tc.force {
				h.forceDelete(pod0)
			} else if err := h.c.Delete(h.ctx(), h.waitPod(pod0)); err != nil {
				t.Fatal(err)
			}
			wp := h.waitPhase(run, kubeciv1.WorkplanFailed)
			if c := findCondition(wp, kubeciv1.ConditionSucceeded); c == nil || c.Reason != kubeciv1.ReasonPodLost {
				t.Errorf("Succeeded condition = %+v, want reason PodLost", c)
			}
			if want := "pod " + pod0 + " of task 0 was deleted before it finished"; wp.Status.Reason != want {
				t.Errorf("reason = %q, want %q", wp.Status.Reason, want)
			}
			if !tc.force {
				h.finishDeletedPod(pod0)
			}
			h.runCleanup(run, 1, 0)
			h.waitCleaned(run, kubeciv1.ReasonCleaned)
			if got := h.pods(); len(got) != 0 {
				t.Errorf("pods left: %v (the lost task must not be run again)", got)
			}
		})
	}
}

// Deleting a running Workplan stops its pod, cleans its workspace, then
// releases the finalizer so that the Workplan goes.
func TestDeletingARunningWorkplanCleansUpFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	run := h.createRun(h.createWorkflow(), "deleted").Name
	pod0 := names.TaskPod(run, 0)
	h.runPod(pod0)
	h.waitPhase(run, kubeciv1.WorkplanRunning)

	if err := h.c.Delete(h.ctx(), &kubeciv1.Workplan{ObjectMeta: objectMeta(h.ns, run)}); err != nil {
		t.Fatal(err)
	}
	h.waitRun(run, "cancelled while being deleted", func(wp *kubeciv1.Workplan) bool {
		c := findCondition(wp, kubeciv1.ConditionSucceeded)
		return wp.DeletionTimestamp != nil && c != nil && c.Reason == kubeciv1.ReasonCancelled
	})
	h.finishStoppedPod(pod0)
	h.runCleanup(run, 1, 0)
	h.waitGone(run)
	h.waitPodGone(names.CleanupPod(run))
}

// A Workplan created with its finalizer, as the Workflow controller creates
// them, deleted while its last task runs: the pod is stopped, the kubelet
// stops its workspace cleaner after the steps, and the cleaner's exit 0
// cleans the workspace; no cleanup pod, and the Workplan goes.
func TestDeletingAWorkplanInItsLastTaskIsCleanedByTheCleaner(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	run := h.createRun(h.createWorkflow(), "deleted-last", func(wp *kubeciv1.Workplan) {
		wp.Finalizers = []string{kubeciv1.FinalizerWorkspaceCleanup}
	}).Name
	pod0, pod1 := names.TaskPod(run, 0), names.TaskPod(run, 1)
	h.runPod(pod0)
	h.endPod(pod0, nil)
	h.runPod(pod1)
	h.waitRun(run, "task 1 running", func(wp *kubeciv1.Workplan) bool { return wp.Status.TaskIndex == 1 })

	if err := h.c.Delete(h.ctx(), &kubeciv1.Workplan{ObjectMeta: objectMeta(h.ns, run)}); err != nil {
		t.Fatal(err)
	}
	h.finishStoppedPod(pod1)
	h.waitGone(run)
	if slices.Contains(h.pods(), names.CleanupPod(run)) {
		t.Error("a cleanup pod was created although the workspace cleaner removed the workspace")
	}
	h.waitEvent(run, workplan.EventCancelled, "the Workplan was deleted")
	h.waitEvent(run, workplan.EventWorkspaceCleaned, "the workspace cleaner of pod "+pod1)
}

// A Workplan deleted before any pod reached a node has nothing to clean:
// its finalizer goes at once.
func TestDeletingAPendingWorkplanReleasesItAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	run := h.createRun(h.createWorkflow(), "deleted-pending").Name
	h.waitPod(names.TaskPod(run, 0))
	if err := h.c.Delete(h.ctx(), &kubeciv1.Workplan{ObjectMeta: objectMeta(h.ns, run)}); err != nil {
		t.Fatal(err)
	}
	h.waitGone(run)
	h.waitPodGone(names.TaskPod(run, 0))
}
