package workplan

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// nodeState is what a run needs to know of the node holding its workspace.
type nodeState struct {
	// Name of the node; empty while the run has none.
	Name string
	// Gone is true when the Node object does not exist (confirmed with an
	// uncached read).
	Gone bool
	// NotReadySince is when the node stopped being Ready; nil while it is.
	NotReadySince *time.Time
}

// observeNode turns the Node named name (nil when it does not exist) into a
// nodeState. A node that has never reported a Ready condition counts as
// NotReady since it was created.
func observeNode(name string, node *corev1.Node) nodeState {
	s := nodeState{Name: name}
	switch {
	case name == "":
	case node == nil:
		s.Gone = true
	default:
		since := node.CreationTimestamp.Time
		for _, c := range node.Status.Conditions {
			if c.Type != corev1.NodeReady {
				continue
			}
			if c.Status == corev1.ConditionTrue {
				return s
			}
			since = c.LastTransitionTime.Time
		}
		s.NotReadySince = &since
	}
	return s
}

// lost reports whether the node is lost for good at now: deleted, or NotReady
// for at least grace. When it is NotReady for less, recheck is how long until
// it would be.
func (n nodeState) lost(now time.Time, grace time.Duration) (lost bool, why string, recheck time.Duration) {
	switch {
	case n.Name == "":
		return false, "", 0
	case n.Gone:
		return true, fmt.Sprintf("node %s was deleted", n.Name), 0
	case n.NotReadySince == nil:
		return false, "", 0
	}
	if waited := now.Sub(*n.NotReadySince); waited < grace {
		return false, "", grace - waited
	}
	return true, fmt.Sprintf("node %s has been NotReady since %s (more than %s)",
		n.Name, n.NotReadySince.UTC().Format(time.RFC3339), grace), 0
}

// nodeReadinessChanged lets through the node events a run cares about: a
// node appearing, disappearing, or its Ready condition changing. Heartbeats
// and other status updates are dropped.
var nodeReadinessChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		oldNode, ok1 := e.ObjectOld.(*corev1.Node)
		newNode, ok2 := e.ObjectNew.(*corev1.Node)
		if !ok1 || !ok2 {
			return true
		}
		return readyStatus(oldNode) != readyStatus(newNode)
	},
}

func readyStatus(node *corev1.Node) corev1.ConditionStatus {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return corev1.ConditionUnknown
}

// workplansOnNode maps a node to the Workplans whose workspace it holds.
func (r *Reconciler) workplansOnNode(ctx context.Context, node client.Object) []reconcile.Request {
	var list kubeciv1.WorkplanList
	if err := r.Client.List(ctx, &list, client.MatchingFields{indexNodeName: node.GetName()}); err != nil {
		log.FromContext(ctx).Error(err, "listing the Workplans on a node", "node", node.GetName())
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, wp := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: wp.Namespace, Name: wp.Name}})
	}
	return reqs
}
