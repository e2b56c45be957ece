package workplan

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Reasons of the Events the controller records on Workplans, besides the
// Succeeded condition's reasons.
const (
	// EventTaskStarted: a task's pod was created.
	EventTaskStarted = "TaskStarted"
	// EventNodeSelected: the scheduler placed the run's first pod; every later
	// pod is pinned to that node.
	EventNodeSelected = "NodeSelected"
	// EventStepFailed: a step exited non-zero.
	EventStepFailed = "StepFailed"
	// EventCompleted: the run ended with every step succeeded.
	EventCompleted = "Completed"
	// EventFailed: the run ended Failed; the note says why.
	EventFailed = "Failed"
	// EventCancelled: the run was cancelled or its Workplan deleted.
	EventCancelled = "Cancelled"
	// EventWorkspaceCleaned: the workspace was removed (or there was none).
	EventWorkspaceCleaned = "WorkspaceCleaned"
	// EventCleanupFailed: a cleanup pod failed; it is retried.
	EventCleanupFailed = "CleanupFailed"
	// EventCleanupAbandoned: the operator gave up removing the workspace.
	EventCleanupAbandoned = "CleanupAbandoned"
)

// Actions of the Events (events.k8s.io/v1 requires one).
const (
	actionRun     = "Run"
	actionCleanup = "Cleanup"
)

// maxNote bounds an Event's note (events.k8s.io/v1 allows 1 kB).
const maxNote = 1000

// notice is an Event to record.
type notice struct {
	eventType, reason, action, note string
}

// notices are the Events that tell what changed between two statuses of a
// run. They are recorded only after the new status was saved, so that a
// reconcile retried after a conflict does not repeat them.
func notices(old, cur *kubeciv1.WorkplanStatus) []notice {
	var out []notice
	add := func(eventType, reason, action, format string, args ...any) {
		out = append(out, notice{eventType, reason, action, kubeciv1.TruncateMessage(fmt.Sprintf(format, args...), maxNote)})
	}
	if cur.NodeName != "" && old.NodeName == "" {
		add(corev1.EventTypeNormal, EventNodeSelected, actionRun, "the run is placed on node %s: its workspace is there and every later pod is pinned to it", cur.NodeName)
	}
	if cur.PodName != "" && cur.PodName != old.PodName {
		add(corev1.EventTypeNormal, EventTaskStarted, actionRun, "task %d runs in pod %s", cur.TaskIndex, cur.PodName)
	}
	oldSteps := map[stepKey]kubeciv1.StepPhase{}
	for _, s := range old.Steps {
		oldSteps[stepKey{s.Task, s.Name}] = s.Phase
	}
	for _, s := range cur.Steps {
		if s.Phase == kubeciv1.StepFailed && s.ExitCode != nil && oldSteps[stepKey{s.Task, s.Name}] != kubeciv1.StepFailed {
			note := fmt.Sprintf("step %q (task %d) failed with exit code %d", s.Name, s.Task, *s.ExitCode)
			if s.Message != "" {
				note += ": " + s.Message
			}
			add(corev1.EventTypeWarning, EventStepFailed, actionRun, "%s", note)
		}
	}
	if cur.Phase.Finished() && !old.Phase.Finished() {
		reason := ""
		if c := meta.FindStatusCondition(cur.Conditions, kubeciv1.ConditionSucceeded); c != nil {
			reason = c.Reason
		}
		switch reason {
		case kubeciv1.ReasonCompleted:
			add(corev1.EventTypeNormal, EventCompleted, actionRun, "%s", cur.Reason)
		case kubeciv1.ReasonCancelled:
			add(corev1.EventTypeWarning, EventCancelled, actionRun, "%s", cur.Reason)
		default:
			add(corev1.EventTypeWarning, EventFailed, actionRun, "%s: %s", reason, cur.Reason)
		}
	}
	oldClean := meta.FindStatusCondition(old.Conditions, kubeciv1.ConditionWorkspaceCleaned)
	if c := meta.FindStatusCondition(cur.Conditions, kubeciv1.ConditionWorkspaceCleaned); c != nil &&
		(oldClean == nil || oldClean.Reason != c.Reason || oldClean.Message != c.Message) {
		switch c.Reason {
		case kubeciv1.ReasonCleaned, kubeciv1.ReasonNothingToClean:
			add(corev1.EventTypeNormal, EventWorkspaceCleaned, actionCleanup, "%s", c.Message)
		case kubeciv1.ReasonCleanupFailed:
			add(corev1.EventTypeWarning, EventCleanupFailed, actionCleanup, "%s", c.Message)
		case kubeciv1.ReasonCleanupAbandoned:
			add(corev1.EventTypeWarning, EventCleanupAbandoned, actionCleanup, "%s", c.Message)
		}
	}
	return out
}
