package workflow

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

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
	for _, tc := range []struct {
		name                string
		completed, failedOK int
		want                []string
	}{
		{"within the limits", 10, 10, nil},
		{"keep the newest", 1, 1, []string{"c2", "c1", "f1", "f0"}},
		{"keep none", 0, 0, []string{"c3", "c2", "c1", "f2", "f1", "f0"}},
		{"a negative limit keeps none", -1, 2, []string{"c3", "c2", "c1", "f0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, runNames(expiredRuns(runs, tc.completed, tc.failedOK))); diff != "" {
				t.Errorf("expired runs (-want +got):\n%s", diff)
			}
		})
	}
}

func runNames(wps []*kubeciv1.Workplan) []string {
	var out []string
	for _, wp := range wps {
		out = append(out, wp.Name)
	}
	return out
}

func TestRunEndedWakesTheWorkflow(t *testing.T) {
	wp := func(phase kubeciv1.WorkplanPhase, ended *metav1.Time) *kubeciv1.Workplan {
		return &kubeciv1.Workplan{Status: kubeciv1.WorkplanStatus{Phase: phase, CompletionTime: ended}}
	}
	end, later := &metav1.Time{Time: t0}, &metav1.Time{Time: t0.Add(time.Second)}
	for _, tc := range []struct {
		name     string
		old, new *kubeciv1.Workplan
		want     bool
	}{
		{"starts running", wp(kubeciv1.WorkplanPending, nil), wp(kubeciv1.WorkplanRunning, nil), false},
		{"a step changes", wp(kubeciv1.WorkplanRunning, nil), wp(kubeciv1.WorkplanRunning, nil), false},
		{"completes", wp(kubeciv1.WorkplanRunning, nil), wp(kubeciv1.WorkplanCompleted, end), true},
		{"fails", wp(kubeciv1.WorkplanRunning, nil), wp(kubeciv1.WorkplanFailed, end), true},
		{"its end is recorded again", wp(kubeciv1.WorkplanFailed, end), wp(kubeciv1.WorkplanFailed, later), true},
		{"its cleanup goes on", wp(kubeciv1.WorkplanFailed, end), wp(kubeciv1.WorkplanFailed, end), false},
	} {
		if got := runEnded.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
			t.Errorf("%s: update wakes the Workflow = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !runEnded.Create(event.CreateEvent{Object: wp(kubeciv1.WorkplanCompleted, end)}) ||
		runEnded.Create(event.CreateEvent{Object: wp("", nil)}) {
		t.Error("a run seen first must wake its Workflow only when it has ended")
	}
	if runEnded.Delete(event.DeleteEvent{Object: wp(kubeciv1.WorkplanCompleted, end)}) {
		t.Error("a deleted run must not wake its Workflow")
	}
}

// Pruning from a cache that does not show the previous prune's deletions yet
// deletes those runs again, which finds them gone: not an error. A failed
// delete is reported, and tried again by the next prune.
func TestHistoryDeletesTheExpiredRuns(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := kubeciv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	limit := int32(1)
	wf := &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "wf", UID: "wf-uid"},
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
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(wf, &stale.Items[0], &stale.Items[1], &stale.Items[2]).
		WithInterceptorFuncs(interceptor.Funcs{
			List: func(_ context.Context, _ client.WithWatch, list client.ObjectList, _ ...client.ListOption) error {
				stale.DeepCopyInto(list.(*kubeciv1.WorkplanList))
				return nil
			},
			Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
				deletes = append(deletes, obj.GetName())
				if failNext {
					failNext = false
					return errors.New("the API server is away")
				}
				return c.Delete(ctx, obj, opts...)
			},
		}).Build()
	r := &Reconciler{Client: c}
	prune := func() error { return r.reconcileHistory(context.Background(), wf) }

	for range 2 {
		if err := prune(); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"run-1", "run-0", "run-1", "run-0"}, deletes); diff != "" {
		t.Errorf("two prunes from a stale cache: deletes (-want +got):\n%s", diff)
	}
	for _, name := range []string{"run-0", "run-1", "run-2"} {
		err := c.Get(context.Background(), client.ObjectKey{Namespace: "ns", Name: name}, &kubeciv1.Workplan{})
		if gone := apierrors.IsNotFound(err); gone != (name != "run-2") {
			t.Errorf("%s: get after the prunes: %v", name, err)
		}
	}

	deletes = nil
	failNext = true
	if err := prune(); err == nil {
		t.Fatal("a failed delete must be reported")
	}
	if diff := cmp.Diff([]string{"run-1"}, deletes); diff != "" {
		t.Errorf("a failed delete stops the prune: deletes (-want +got):\n%s", diff)
	}
}
