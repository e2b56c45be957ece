package workflow

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// indexRunsOfWorkflow is a field index of Workplans by the UID of the
// Workflow that controls them, registered by SetupWithManager.
const indexRunsOfWorkflow = "kube.ci/workflow-uid"

// runsOfWorkflow indexes a Workplan by the UID of its controlling Workflow.
func runsOfWorkflow(o client.Object) []string {
	if ref := metav1.GetControllerOf(o); ref != nil && ref.Kind == "Workflow" && ref.APIVersion == kubeciv1.GroupVersion.String() {
		return []string{string(ref.UID)}
	}
	return nil
}

// runEnded lets through the Workplan events that can take a Workflow beyond
// its history limits: a run that ends (or is first seen ended). Every other
// change of a run leaves the Workflow asleep.
var runEnded = predicate.Funcs{
	CreateFunc: func(e event.CreateEvent) bool { return e.Object.(*kubeciv1.Workplan).Status.Phase.Finished() },
	UpdateFunc: func(e event.UpdateEvent) bool {
		old, wp := e.ObjectOld.(*kubeciv1.Workplan), e.ObjectNew.(*kubeciv1.Workplan)
		return wp.Status.Phase.Finished() &&
			(old.Status.Phase != wp.Status.Phase || !old.Status.CompletionTime.Equal(wp.Status.CompletionTime))
	},
	DeleteFunc:  func(event.DeleteEvent) bool { return false },
	GenericFunc: func(event.GenericEvent) bool { return false },
}

// reconcileHistory deletes the oldest ended runs of wf beyond its history
// limits, as the CronJob controller prunes its Jobs. It runs at every
// reconcile of the Workflow, which a run's end wakes up (runEnded), as does
// a change of the limits. Deleted Workplans take their pods with them
// (owner references, background propagation), and their finalizer sees to
// their workspace first. A run deleted by the previous reconcile may still
// show in the cache: deleting it again finds it gone or being deleted, which
// is not an error.
func (r *Reconciler) reconcileHistory(ctx context.Context, wf *kubeciv1.Workflow) error {
	// The runs are only read (and deleted): listing them without deep copies
	// spares a copy of every run of the Workflow at each reconcile.
	var runs kubeciv1.WorkplanList
	if err := r.List(ctx, &runs, client.InNamespace(wf.Namespace), client.MatchingFields{indexRunsOfWorkflow: string(wf.UID)},
		client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing the Workplans of Workflow %s: %w", wf.Name, err)
	}
	for _, old := range expiredRuns(runs.Items, int(wf.Spec.GetSuccessfulRunsHistoryLimit()), int(wf.Spec.GetFailedRunsHistoryLimit())) {
		err := r.Delete(ctx, old, client.PropagationPolicy(metav1.DeletePropagationBackground), client.Preconditions{UID: &old.UID})
		if err := client.IgnoreNotFound(err); err != nil {
			return fmt.Errorf("deleting Workplan %s beyond the history limit: %w", old.Name, err)
		}
		log.FromContext(ctx).Info("deleted a run beyond the Workflow's history limit", "workplan", old.Name, "phase", old.Status.Phase)
	}
	return nil
}

// expiredRuns picks the ended runs beyond the limits: all but the keepCompleted
// newest Completed ones and the keepFailed newest Failed ones. Runs already
// being deleted do not count. Newest means the latest completionTime, then
// the latest creation, then the greatest name.
func expiredRuns(runs []kubeciv1.Workplan, keepCompleted, keepFailed int) []*kubeciv1.Workplan {
	var completed, failed []*kubeciv1.Workplan
	for i := range runs {
		wp := &runs[i]
		switch {
		case wp.DeletionTimestamp != nil:
		case wp.Status.Phase == kubeciv1.WorkplanCompleted:
			completed = append(completed, wp)
		case wp.Status.Phase == kubeciv1.WorkplanFailed:
			failed = append(failed, wp)
		}
	}
	var out []*kubeciv1.Workplan
	for _, group := range []struct {
		runs []*kubeciv1.Workplan
		keep int
	}{{completed, keepCompleted}, {failed, keepFailed}} {
		slices.SortFunc(group.runs, newestFirst)
		if keep := max(group.keep, 0); len(group.runs) > keep {
			out = append(out, group.runs[keep:]...)
		}
	}
	return out
}

func newestFirst(a, b *kubeciv1.Workplan) int {
	return cmp.Or(
		-compareTimes(a.Status.CompletionTime, b.Status.CompletionTime),
		-a.CreationTimestamp.Compare(b.CreationTimestamp.Time),
		-cmp.Compare(a.Name, b.Name),
	)
}

// compareTimes orders times, a missing one first.
func compareTimes(a, b *metav1.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return a.Compare(b.Time)
}
