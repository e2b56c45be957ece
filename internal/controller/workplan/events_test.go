package workplan

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Events tell what changed between two statuses, once.
func TestNotices(t *testing.T) {
	running := kubeciv1.WorkplanStatus{Phase: kubeciv1.WorkplanRunning, NodeName: "node-a", PodName: "run-task-0"}
	failed := *running.DeepCopy()
	failed.Phase, failed.Reason = kubeciv1.WorkplanFailed, `step "build" (task 0) failed with exit code 3`
	failed.Steps = []kubeciv1.StepStatus{
		{Name: "build", Phase: kubeciv1.StepFailed, ExitCode: ptr.To[int32](3), Message: "make: *** Error 3"},
		{Name: "lint", Phase: kubeciv1.StepFailed, Message: "stopped: ..."},
	}
	setCondition(&failed, 1, kubeciv1.ConditionSucceeded, metav1.ConditionFalse, kubeciv1.ReasonStepFailed, failed.Reason, t0)
	setCondition(&failed, 1, kubeciv1.ConditionWorkspaceCleaned, metav1.ConditionFalse, kubeciv1.ReasonCleanupPending, "pending", t0)
	cleaned := *failed.DeepCopy()
	setCondition(&cleaned, 1, kubeciv1.ConditionWorkspaceCleaned, metav1.ConditionTrue, kubeciv1.ReasonCleaned, "removed /kubeci/ns/wf/run from node node-a", t0)
	retry := *failed.DeepCopy()
	setCondition(&retry, 1, kubeciv1.ConditionWorkspaceCleaned, metav1.ConditionFalse, kubeciv1.ReasonCleanupFailed, "attempt 1 failed", t0)
	cancelled := *running.DeepCopy()
	cancelled.Phase, cancelled.Reason = kubeciv1.WorkplanFailed, "cancelled: spec.cancelled was set"
	setCondition(&cancelled, 1, kubeciv1.ConditionSucceeded, metav1.ConditionFalse, kubeciv1.ReasonCancelled, cancelled.Reason, t0)
	completed := *running.DeepCopy()
	completed.Phase, completed.Reason = kubeciv1.WorkplanCompleted, "all 2 tasks succeeded"
	setCondition(&completed, 1, kubeciv1.ConditionSucceeded, metav1.ConditionTrue, kubeciv1.ReasonCompleted, completed.Reason, t0)

	nextTask := *running.DeepCopy()
	nextTask.TaskIndex, nextTask.PodName = 1, "run-task-1"
	bySidecar := "removed /kubeci/ns/wf/run from node node-a (the workspace cleaner of pod run-task-1)"
	completedClean := *completed.DeepCopy()
	setCondition(&completedClean, 1, kubeciv1.ConditionWorkspaceCleaned, metav1.ConditionTrue, kubeciv1.ReasonCleaned, bySidecar, t0)
	completedPending := *completed.DeepCopy()
	setCondition(&completedPending, 1, kubeciv1.ConditionWorkspaceCleaned, metav1.ConditionFalse, kubeciv1.ReasonCleanupPending, "pending", t0)
	completedCleanedLater := *completed.DeepCopy()
	setCondition(&completedCleanedLater, 1, kubeciv1.ConditionWorkspaceCleaned, metav1.ConditionTrue, kubeciv1.ReasonCleaned, "removed /kubeci/ns/wf/run from node node-a", t0)
	failedClean := *failed.DeepCopy()
	setCondition(&failedClean, 1, kubeciv1.ConditionWorkspaceCleaned, metav1.ConditionTrue, kubeciv1.ReasonCleaned, bySidecar, t0)

	cases := []struct {
		name     string
		old, cur kubeciv1.WorkplanStatus
		want     []notice
	}{
		{"nothing changed", running, running, nil},
		// Where the run is placed and which pod runs a task is in the status.
		{"the first pod is placed", kubeciv1.WorkplanStatus{}, running, nil},
		{"the next task starts", running, nextTask, nil},
		{"a step fails the run", running, failed, []notice{
			{"Warning", EventStepFailed, actionRun, `step "build" (task 0) failed with exit code 3: make: *** Error 3`},
			{"Warning", EventFailed, actionRun, `StepFailed: step "build" (task 0) failed with exit code 3`},
		}},
		{"cancelled", running, cancelled, []notice{{"Warning", EventCancelled, actionRun, "cancelled: spec.cancelled was set"}}},
		{"completed", running, completed, []notice{{"Normal", EventCompleted, actionRun, "all 2 tasks succeeded"}}},
		{"completed and cleaned at once: one Event", running, completedClean, []notice{{"Normal", EventCompleted, actionRun,
			"all 2 tasks succeeded; removed /kubeci/ns/wf/run from node node-a (the workspace cleaner of pod run-task-1)"}}},
		{"completed, cleanup pending", running, completedPending, []notice{{"Normal", EventCompleted, actionRun, "all 2 tasks succeeded"}}},
		{"cleaned after a completed run", completedPending, completedCleanedLater, []notice{{"Normal", EventWorkspaceCleaned, actionCleanup,
			"removed /kubeci/ns/wf/run from node node-a"}}},
		{"failed and cleaned at once: the Warning and the cleanup apart", running, failedClean, []notice{
			{"Warning", EventStepFailed, actionRun, `step "build" (task 0) failed with exit code 3: make: *** Error 3`},
			{"Warning", EventFailed, actionRun, `StepFailed: step "build" (task 0) failed with exit code 3`},
			{"Normal", EventWorkspaceCleaned, actionCleanup, "removed /kubeci/ns/wf/run from node node-a (the workspace cleaner of pod run-task-1)"},
		}},
		{"cleaned", failed, cleaned, []notice{{"Normal", EventWorkspaceCleaned, actionCleanup, "removed /kubeci/ns/wf/run from node node-a"}}},
		{"a cleanup attempt failed", failed, retry, []notice{{"Warning", EventCleanupFailed, actionCleanup, "attempt 1 failed"}}},
		{"the same cleanup failure is not repeated", retry, retry, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, notices(&tc.old, &tc.cur), cmp.AllowUnexported(notice{})); diff != "" {
				t.Errorf("notices (-want +got):\n%s", diff)
			}
		})
	}
}

// A task's duration is observed once, when its last step ends.
func TestEndedTasks(t *testing.T) {
	at := func(s int) *metav1.Time { return &metav1.Time{Time: t0.Add(time.Duration(s) * time.Second)} }
	old := kubeciv1.WorkplanStatus{Steps: []kubeciv1.StepStatus{
		{Name: "a", Task: 0, Phase: kubeciv1.StepSucceeded, StartTime: at(0), FinishTime: at(5)},
		{Name: "b", Task: 0, Phase: kubeciv1.StepRunning, StartTime: at(5)},
		{Name: "c", Task: 1, Phase: kubeciv1.StepWaiting},
	}}
	cur := *old.DeepCopy()
	cur.Steps[1].Phase, cur.Steps[1].FinishTime = kubeciv1.StepFailed, at(12)
	cur.Steps[2].Phase = kubeciv1.StepSkipped
	want := map[int32]taskResult{0: {outcome: "failed", duration: 12 * time.Second}}
	if diff := cmp.Diff(want, endedTasks(&old, &cur), cmp.AllowUnexported(taskResult{})); diff != "" {
		t.Errorf("ended tasks (-want +got):\n%s", diff)
	}
	if got := endedTasks(&cur, &cur); len(got) != 0 {
		t.Errorf("no task ended between equal statuses, got %v", got)
	}
}
