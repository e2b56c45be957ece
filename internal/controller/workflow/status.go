package workflow

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// problem is why a Workflow is not Ready.
type problem struct {
	reason  string
	message string
}

// setReady records the Ready condition; it returns true when the reason
// changed, so that events are emitted on transitions only.
func setReady(wf *kubeciv1.Workflow, status metav1.ConditionStatus, reason, message string) bool {
	prev := meta.FindStatusCondition(wf.Status.Conditions, kubeciv1.ConditionReady)
	meta.SetStatusCondition(&wf.Status.Conditions, metav1.Condition{
		Type:               kubeciv1.ConditionReady,
		Status:             status,
		Reason:             reason,
		Message:            kubeciv1.TruncateMessage(message, 32*1024),
		ObservedGeneration: wf.Generation,
	})
	return prev == nil || prev.Reason != reason || prev.Status != status
}

// readyReason is the reason of wf's Ready condition, if any.
func readyReason(wf *kubeciv1.Workflow) string {
	if c := meta.FindStatusCondition(wf.Status.Conditions, kubeciv1.ConditionReady); c != nil {
		return c.Reason
	}
	return ""
}
