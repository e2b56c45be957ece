package workplan

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Reasons of the Events the controller records on Workplans, besides the
// Succeeded condition's reasons. Events are kept for what a person needs to
// be told, and cost the API server one create each: where the run is placed
// and which pod runs which task are in the Workplan's status (nodeName,
// podName, steps), so they get no Event; a run that succeeds gets one.
const (
	// EventStepFailed: a step exited non-zero.
	EventStepFailed = "StepFailed"
	// EventCompleted: the run ended with every step succeeded. When its
	// workspace was removed by the same status change (the last task's pod's
	// workspace cleaner), the note says so too, and there is no separate
	// WorkspaceCleaned Event.
	EventCompleted = "Completed"
	// EventFailed: the run ended Failed; the note says why.
	EventFailed = "Failed"
	// EventCancelled: the run was cancelled or its Workplan deleted.
	EventCancelled = "Cancelled"
	// EventWorkspaceCleaned: the workspace was removed (or there was none)
	// after the run's end.
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
	oldClean := meta.FindStatusCondition(old.Conditions, kubeciv1.ConditionWorkspaceCleaned)
	clean := meta.FindStatusCondition(cur.Conditions, kubeciv1.ConditionWorkspaceCleaned)
	if clean != nil && oldClean != nil && oldClean.Reason == clean.Reason && oldClean.Message == clean.Message {
		clean = nil // told already
	}
	if cur.Phase.Finished() && !old.Phase.Finished() {
		reason := ""
		if c := meta.FindStatusCondition(cur.Conditions, kubeciv1.ConditionSucceeded); c != nil {
			reason = c.Reason
		}
		switch reason {
		case kubeciv1.ReasonCompleted:
			if clean != nil && clean.Status == metav1.ConditionTrue {
				// Ended and cleaned in one change: one Event says both.
				add(corev1.EventTypeNormal, EventCompleted, actionRun, "%s; %s", cur.Reason, clean.Message)
				clean = nil
			} else {
				add(corev1.EventTypeNormal, EventCompleted, actionRun, "%s", cur.Reason)
			}
		case kubeciv1.ReasonCancelled:
			add(corev1.EventTypeWarning, EventCancelled, actionRun, "%s", cur.Reason)
		default:
			add(corev1.EventTypeWarning, EventFailed, actionRun, "%s: %s", reason, cur.Reason)
		}
	}
	if c := clean; c != nil {
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
