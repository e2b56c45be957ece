package workplan_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/controller/workplan"
	"github.com/kubeci/kubeci/internal/names"
)

// Restarting the operator mid-run neither duplicates nor loses pods: a task
// that ended while it was down is followed by the next one, and a pod
// created just before a crash (not yet in the status) is found again rather
// than created twice.
func TestRestartNeitherDuplicatesNorLosesPods(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	run := h.createRun(h.createWorkflow(), "restart").Name
	pod0, pod1 := names.TaskPod(run, 0), names.TaskPod(run, 1)
	uid0 := h.runPod(pod0).UID
	h.waitRun(run, "running on the node", func(wp *kubeciv1.Workplan) bool {
		return wp.Status.Phase == kubeciv1.WorkplanRunning && wp.Status.NodeName == h.node
	})

	// Task 0 ends while the operator is down.
	h.stop()
	h.endPod(pod0, nil)
	h.start()
	uid1 := h.waitPod(pod1).UID
	h.waitRun(run, "task 1 recorded", func(wp *kubeciv1.Workplan) bool { return wp.Status.PodName == pod1 })

	// The operator crashed after creating task 1's pod but before saving the
	// status that records it: the status still points at task 0.
	h.stop()
	wp := &kubeciv1.Workplan{}
	if err := h.c.Get(h.ctx(), keyOf(h.ns, run), wp); err != nil {
		t.Fatal(err)
	}
	behind := client.MergeFrom(wp.DeepCopy())
	wp.Status.TaskIndex, wp.Status.PodName = 0, pod0
	if err := h.c.Status().Patch(h.ctx(), wp, behind); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.waitRun(run, "task 1 found again", func(wp *kubeciv1.Workplan) bool { return wp.Status.TaskIndex == 1 && wp.Status.PodName == pod1 })

	h.runPod(pod1)
	h.restart()
	h.endPod(pod1, nil)
	wp = h.waitPhase(run, kubeciv1.WorkplanCompleted)
	if wp.Status.NodeName != h.node {
		t.Errorf("nodeName = %q after restarts, want %q", wp.Status.NodeName, h.node)
	}
	var pods corev1.PodList
	if err := h.c.List(h.ctx(), &pods, client.InNamespace(h.ns)); err != nil {
		t.Fatal(err)
	}
	got := map[string]types.UID{}
	for _, p := range pods.Items {
		if !slices.Contains([]string{pod0, pod1}, p.Name) {
			continue
		}
		got[p.Name] = p.UID
	}
	if diff := cmp.Diff(map[string]types.UID{pod0: uid0, pod1: uid1}, got); diff != "" {
		t.Errorf("task pods after restarts (-want +got): a pod was lost or created again\n%s", diff)
	}
	h.waitCleaned(run, kubeciv1.ReasonCleaned)
	if slices.Contains(h.pods(), names.CleanupPod(run)) {
		t.Error("a cleanup pod was created although the workspace cleaner removed the workspace")
	}
}
