package workplan

import (
	"fmt"
	"time"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// stopReason reports whether a run that has not ended must stop at now, and
// why: its Workplan is being deleted, spec.cancelled is set, or it is past its
// deadline. When the run may go on but has a deadline, recheck is the time
// left until it.
//
// The deadline counts from the Workplan's creation, like a Job's
// activeDeadlineSeconds: time spent waiting for a node or pulling images
// counts, so a run never outlives its deadline however it is stuck. The
// creation time is fixed and stored on the object, so the deadline survives
// operator restarts.
func stopReason(wp *kubeciv1.Workplan, now time.Time) (reason, message string, recheck time.Duration) {
	switch {
	case wp.DeletionTimestamp != nil:
		return kubeciv1.ReasonCancelled, "cancelled: the Workplan was deleted before the run ended", 0
	case wp.Spec.Cancelled:
		return kubeciv1.ReasonCancelled, "cancelled: spec.cancelled was set", 0
	case wp.Spec.ActiveDeadlineSeconds == nil:
		return "", "", 0
	}
	limit := time.Duration(*wp.Spec.ActiveDeadlineSeconds) * time.Second
	deadline := wp.CreationTimestamp.Add(limit)
	if now.Before(deadline) {
		return "", "", deadline.Sub(now)
	}
	return kubeciv1.ReasonDeadlineExceeded, fmt.Sprintf(
		"the run exceeded its activeDeadlineSeconds (%s since the Workplan was created at %s)",
		limit, wp.CreationTimestamp.UTC().Format(time.RFC3339)), 0
}
