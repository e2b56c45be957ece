package workplan

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// reconcileHistory deletes the oldest ended runs of wp's Workflow beyond the
// Workflow's history limits. It runs whenever an ended run is reconciled, so
// each run that ends prunes its siblings. Deleted Workplans take their pods
// with them (owner references, background propagation), and their finalizer
// sees to their workspace first.
func (r *Reconciler) reconcileHistory(ctx context.Context, wp *kubeciv1.Workplan) error {
	var wf kubeciv1.Workflow
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: wp.Namespace, Name: wp.Spec.Workflow}, &wf); err != nil {
		// Without its Workflow a run has no limits; the garbage collector
		// deletes runs of a deleted Workflow.
		return client.IgnoreNotFound(err)
	}
	// The runs are only read (and deleted): listing them without deep copies
	// spares a copy of every run of the Workflow at each reconcile of an
	// ended one, the largest item of the operator's CPU profile under load.
	var runs kubeciv1.WorkplanList
	if err := r.Client.List(ctx, &runs, client.InNamespace(wp.Namespace), client.MatchingFields{IndexWorkplanWorkflow: wf.Name},
		client.UnsafeDisableDeepCopy); err != nil {
		return fmt.Errorf("listing the Workplans of Workflow %s: %w", wf.Name, err)
	}
	for _, old := range expiredRuns(runs.Items, int(wf.Spec.GetSuccessfulRunsHistoryLimit()), int(wf.Spec.GetFailedRunsHistoryLimit())) {
		if !r.deleted.add(old.UID, r.Clock.Now()) {
			continue // deleted by an earlier reconcile; the cache does not show it yet
		}
		err := r.Client.Delete(ctx, old, client.PropagationPolicy(metav1.DeletePropagationBackground), client.Preconditions{UID: &old.UID})
		if err := client.IgnoreNotFound(err); err != nil {
			r.deleted.forget(old.UID)
			return fmt.Errorf("deleting Workplan %s beyond the history limit: %w", old.Name, err)
		}
		log.FromContext(ctx).Info("deleted a run beyond the Workflow's history limit", "workplan", old.Name, "phase", old.Status.Phase)
	}
	return nil
}

// recentDeleteTTL is how long a run deleted for the history limit is not
// deleted again: long enough for the cache to show the deletion.
const recentDeleteTTL = time.Minute

// recentDeletes remembers the runs deleted for the history limit in the last
// minute. Several reconciles (of the runs that end one after the other) prune
// the same Workflow's history from a cache that shows a deletion only a
// moment later; without this memory each of them would delete the same old
// runs again, one API request each. The zero value is ready to use.
type recentDeletes struct {
	mu sync.Mutex
	at map[types.UID]time.Time
}

// add records that uid is being deleted at now. It returns false when uid
// was already recorded less than recentDeleteTTL ago.
func (d *recentDeletes) add(uid types.UID, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if at, ok := d.at[uid]; ok && now.Sub(at) < recentDeleteTTL {
		return false
	}
	if d.at == nil {
		d.at = map[types.UID]time.Time{}
	}
	for u, at := range d.at {
		if now.Sub(at) >= recentDeleteTTL {
			delete(d.at, u)
		}
	}
	d.at[uid] = now
	return true
}

// forget drops uid, whose deletion failed and must be tried again.
func (d *recentDeletes) forget(uid types.UID) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.at, uid)
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
