package workplan_test

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/controller/workplan"
	"github.com/kubeci/kubeci/internal/names"
)

// finishRun runs the single task of a one-step Workflow's run to success,
// its workspace cleaner exiting with cleanerCode.
func finishRun(h *harness, name string, cleanerCode int32) {
	h.t.Helper()
	wf := h.createWorkflow(func(wf *kubeciv1.Workflow) { wf.Spec.Steps = wf.Spec.Steps[:1] })
	h.createRun(wf, name)
	pod := names.TaskPod(name, 0)
	h.runPod(pod)
	h.endPod(pod, map[string]int32{cleanerName: cleanerCode})
	h.waitPhase(name, kubeciv1.WorkplanCompleted)
}

// A run whose last pod's workspace cleaner failed is cleaned by a cleanup
// pod. A failing cleanup pod is reported and retried after its backoff; the
// retry's success cleans the workspace and removes every cleanup pod.
func TestFailingCleanupIsRetriedAndReported(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	finishRun(h, "retry", 1)
	// The cleaner failed: a cleanup pod does its work (runCleanup waits for
	// it).
	h.runCleanup("retry", 1, 1)
	wp := h.waitRun("retry", "cleanup failed", func(wp *kubeciv1.Workplan) bool {
		c := findCondition(wp, kubeciv1.ConditionWorkspaceCleaned)
		return c != nil && c.Reason == kubeciv1.ReasonCleanupFailed
	})
	if c := findCondition(wp, kubeciv1.ConditionWorkspaceCleaned); !strings.Contains(c.Message, "attempt 1 of 5) failed with exit code 1") {
		t.Errorf("WorkspaceCleaned message %q does not say which attempt failed how", c.Message)
	}
	if len(wp.Finalizers) == 0 {
		t.Error("the finalizer was released while the cleanup is failing")
	}
	h.waitEvent("retry", workplan.EventCleanupFailed, "attempt 1 of 5")

	h.clock.Step(time.Minute) // past the first backoff (10s)
	h.poke("retry")
	h.runCleanup("retry", 2, 0)
	h.waitCleaned("retry", kubeciv1.ReasonCleaned)
	h.waitPodGone(names.CleanupPod("retry"))
	h.waitPodGone(names.CleanupPod("retry") + "-2")
}

// A node deleted before its workspace was cleaned cannot be cleaned: the
// cleanup is abandoned and says so, and the finalizer goes.
func TestCleanupOfADeletedNodeIsAbandoned(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	finishRun(h, "node-gone", 137)
	h.waitPod(names.CleanupPod("node-gone"))
	if err := h.c.Delete(h.ctx(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: h.node}}); err != nil {
		t.Fatal(err)
	}
	wp := h.waitCleaned("node-gone", kubeciv1.ReasonCleanupAbandoned)
	if c := findCondition(wp, kubeciv1.ConditionWorkspaceCleaned); !strings.Contains(c.Message, "node "+h.node+" was deleted") {
		t.Errorf("WorkspaceCleaned message %q does not say the node was deleted", c.Message)
	}
	h.waitPodGone(names.CleanupPod("node-gone"))
	h.waitEvent("node-gone", workplan.EventCleanupAbandoned, "remove it by hand")
}

// A node that stays NotReady past the grace period loses the running pod.
func TestNodeNotReadyPastGracePeriodFailsTheRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{NodeLostGracePeriod: time.Minute})
	run := h.createRun(h.createWorkflow(), "node-lost").Name
	h.runPod(names.TaskPod(run, 0))
	h.waitPhase(run, kubeciv1.WorkplanRunning)

	node := &corev1.Node{}
	if err := h.c.Get(h.ctx(), keyOf("", h.node), node); err != nil {
		t.Fatal(err)
	}
	node.Status.Conditions[0].Status = corev1.ConditionUnknown
	node.Status.Conditions[0].LastTransitionTime = metav1.NewTime(h.clock.Now())
	if err := h.c.Status().Update(h.ctx(), node); err != nil {
		t.Fatal(err)
	}
	h.clock.Step(2 * time.Minute)
	h.poke(run)
	wp := h.waitPhase(run, kubeciv1.WorkplanFailed)
	if c := findCondition(wp, kubeciv1.ConditionSucceeded); c == nil || c.Reason != kubeciv1.ReasonPodLost ||
		!strings.Contains(wp.Status.Reason, "node "+h.node+" has been NotReady") {
		t.Errorf("Succeeded condition %+v, reason %q; want PodLost because the node is NotReady", c, wp.Status.Reason)
	}
	// The node never comes back: the cleanup is given up too.
	h.waitCleaned(run, kubeciv1.ReasonCleanupAbandoned)
}

// Without the workspace cleaner (clusters without native sidecars), the last
// task's pod has no sidecar and a cleanup pod cleans every run.
func TestWithoutWorkspaceCleanerACleanupPodCleans(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{NoWorkspaceCleaner: true})
	wf := h.createWorkflow(func(wf *kubeciv1.Workflow) { wf.Spec.Steps = wf.Spec.Steps[:1] })
	h.createRun(wf, "no-cleaner")
	pod := h.waitPod(names.TaskPod("no-cleaner", 0))
	if len(pod.Spec.InitContainers) != 0 {
		t.Errorf("init containers %v, want none: no workspace cleaner", containerNames(pod.Spec.InitContainers))
	}
	h.runPod(pod.Name)
	h.endPod(pod.Name, nil)
	h.waitPhase("no-cleaner", kubeciv1.WorkplanCompleted)
	h.runCleanup("no-cleaner", 1, 0)
	h.waitCleaned("no-cleaner", kubeciv1.ReasonCleaned)
}
