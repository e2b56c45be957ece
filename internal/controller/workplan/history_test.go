package workplan

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

func TestExpiredRuns(t *testing.T) {
	run := func(name string, phase kubeciv1.WorkplanPhase, ended int, mods ...func(*kubeciv1.Workplan)) kubeciv1.Workplan {
		wp := kubeciv1.Workplan{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.Time{Time: t0}}}
		wp.Status.Phase = phase
		if ended > 0 {
			wp.Status.CompletionTime = &metav1.Time{Time: t0.Add(time.Duration(ended) * time.Minute)}
		}
		for _, m := range mods {
			m(&wp)
		}
		return wp
	}
	beingDeleted := func(wp *kubeciv1.Workplan) { wp.DeletionTimestamp = &metav1.Time{Time: t0} }
	runs := []kubeciv1.Workplan{
		run("c1", kubeciv1.WorkplanCompleted, 1),
		run("c3", kubeciv1.WorkplanCompleted, 3),
		run("c2", kubeciv1.WorkplanCompleted, 2),
		run("f1", kubeciv1.WorkplanFailed, 1),
		run("f2", kubeciv1.WorkplanFailed, 2),
		run("f0", kubeciv1.WorkplanFailed, 0), // ended without a completion time: oldest
		run("gone", kubeciv1.WorkplanFailed, 1, beingDeleted),
		run("live", kubeciv1.WorkplanRunning, 0),
		run("new", "", 0),
	}
	names := func(wps []*kubeciv1.Workplan) []string {
		var out []string
		for _, wp := range wps {
			out = append(out, wp.Name)
		}
		return out
	}
	for _, tc := range []struct {
		name                string
		completed, failedOK int
		want                []string
	}{
		{"within the limits", 10, 10, nil},
		{"keep the newest", 1, 1, []string{"c2", "c1", "f1", "f0"}},
		{"keep none", 0, 0, []string{"c3", "c2", "c1", "f2", "f1", "f0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, names(expiredRuns(runs, tc.completed, tc.failedOK))); diff != "" {
				t.Errorf("expired runs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestObserveNode(t *testing.T) {
	since := t0.Add(-time.Minute)
	for _, tc := range []struct {
		name string
		node nodeState
		lost bool
		why  string
		wait time.Duration
	}{
		{"no node yet", observeNode("", nil), false, "", 0},
		{"ready", observeNode("n", readyNode("n")), false, "", 0},
		{"deleted", observeNode("n", nil), true, "node n was deleted", 0},
		{"NotReady for a minute", observeNode("n", notReadyNode("n", since)), false, "", 4 * time.Minute},
		{"NotReady too long", observeNode("n", notReadyNode("n", t0.Add(-5*time.Minute))), true,
			"node n has been NotReady since 2026-03-01T11:55:00Z (more than 5m0s)", 0},
	} {
		lost, why, wait := tc.node.lost(t0, 5*time.Minute)
		if lost != tc.lost || why != tc.why || wait != tc.wait {
			t.Errorf("%s: lost() = %v, %q, %s; want %v, %q, %s", tc.name, lost, why, wait, tc.lost, tc.why, tc.wait)
		}
	}
}

// Reconciles that prune the history from a cache that does not show their
// deletions yet delete each expired run once, and again only after the
// memory of the deletion has expired (or when it failed).
func TestHistoryDeletesEachExpiredRunOnce(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := kubeciv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	limit := int32(1)
	wf := &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "wf"},
		Spec: kubeciv1.WorkflowSpec{SuccessfulRunsHistoryLimit: &limit}}
	var stale kubeciv1.WorkplanList // what the cache shows: it never catches up
	for i := range 3 {
		wp := kubeciv1.Workplan{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("run-%d", i),
			UID: types.UID(fmt.Sprintf("uid-%d", i))}}
		wp.Spec.Workflow = "wf"
		wp.Status.Phase = kubeciv1.WorkplanCompleted
		wp.Status.CompletionTime = &metav1.Time{Time: t0.Add(time.Duration(i) * time.Minute)}
		stale.Items = append(stale.Items, wp)
	}
	var deletes []string
	failNext := false
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(wf).WithInterceptorFuncs(interceptor.Funcs{
		List: func(_ context.Context, _ client.WithWatch, list client.ObjectList, _ ...client.ListOption) error {
			stale.DeepCopyInto(list.(*kubeciv1.WorkplanList))
			return nil
		},
		Delete: func(_ context.Context, _ client.WithWatch, obj client.Object, _ ...client.DeleteOption) error {
			deletes = append(deletes, obj.GetName())
			if failNext {
				failNext = false
				return errors.New("the API server is away")
			}
			return nil
		},
	}).Build()
	clk := clocktesting.NewFakePassiveClock(t0)
	r := &Reconciler{Client: c, Clock: clk}
	prune := func() error { return r.reconcileHistory(context.Background(), &stale.Items[2]) }

	for range 3 {
		if err := prune(); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"run-1", "run-0"}, deletes); diff != "" {
		t.Errorf("three prunes from a stale cache: deletes (-want +got):\n%s", diff)
	}

	deletes = nil
	clk.SetTime(t0.Add(recentDeleteTTL))
	failNext = true
	if err := prune(); err == nil {
		t.Fatal("a failed delete must be reported")
	}
	if err := prune(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"run-1", "run-1", "run-0"}, deletes); diff != "" {
		t.Errorf("after the memory expired, with one failed delete: deletes (-want +got):\n%s", diff)
	}
}
