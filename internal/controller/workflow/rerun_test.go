package workflow

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/runrequest"
	"github.com/kubeci/kubeci/internal/testenv"
)

// A rerun request starts exactly one new run per request value, with the
// original run's trigger and tasks (not the Workflow's current steps), and
// records the run it repeats. Requests naming a missing run, or a run of
// another Workflow, are answered with a refusal and start nothing.
func TestRerunRequests(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	wf := workflowWith(ns, "rerun")
	create(t, env, wf)
	other := workflowWith(ns, "other")
	create(t, env, other)

	// The original run: one the operator started for a ConfigMap change.
	trig := kubeciv1.TriggerEvent{Event: kubeciv1.EventUpdated, APIVersion: "v1", Kind: "ConfigMap", Namespace: ns,
		Name: "src", UID: types.UID("uid-1"), ResourceVersion: "42", ResourceGeneration: "h:abc"}
	original, err := plan.NewWorkplan(wf, trig, "rerun-original")
	if err != nil {
		t.Fatal(err)
	}
	original.Spec.ActiveDeadlineSeconds = ptr.To[int64](600)
	create(t, env, original)
	foreign, err := plan.NewWorkplan(other, trig, "other-original")
	if err != nil {
		t.Fatal(err)
	}
	create(t, env, foreign)

	// The Workflow's steps change afterwards: a rerun still runs the original's.
	update(t, env, wf, func(w *kubeciv1.Workflow) {
		w.Spec.Steps[0].Image = "changed:latest"
	})
	startOperator(t, env, ns)
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)

	request := func(value string) {
		update(t, env, wf, func(w *kubeciv1.Workflow) {
			w.Annotations = map[string]string{kubeciv1.AnnotationRerunRequest: value}
		})
		testenv.Eventually(t, "rerun request "+value+" to be handled", func() error {
			got := &kubeciv1.Workflow{}
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(wf), got); err != nil {
				return err
			}
			if got.Status.LastHandledRerunRequest != value {
				return errNotYet
			}
			return nil
		})
	}

	req := runrequest.RerunValue(original.Name, "r1")
	request(req)
	got := waitWorkplans(t, env, ns, wf.Name, 2)
	rerun := got[1]
	if rerun.Name == original.Name {
		rerun = got[0]
	}
	if !slices.Contains(rerun.Finalizers, kubeciv1.FinalizerWorkspaceCleanup) {
		t.Errorf("a rerun is created with the workspace-cleanup finalizer, got %v", rerun.Finalizers)
	}
	if diff := cmp.Diff(original.Spec.Tasks, rerun.Spec.Tasks); diff != "" {
		t.Errorf("a rerun runs the original's tasks (-original +rerun):\n%s", diff)
	}
	if diff := cmp.Diff(original.Spec.Trigger, rerun.Spec.Trigger); diff != "" {
		t.Errorf("a rerun keeps the original's trigger (-original +rerun):\n%s", diff)
	}
	want := map[string]string{
		kubeciv1.LabelWorkflow:   wf.Name,
		kubeciv1.LabelRerunOf:    original.Name,
		kubeciv1.LabelRunRequest: names.RunRequest(req),
	}
	if diff := cmp.Diff(want, rerun.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if rerun.Spec.RerunOf != original.Name || *rerun.Spec.ActiveDeadlineSeconds != 600 {
		t.Errorf("want rerunOf %s and the original's deadline, got %q %v", original.Name, rerun.Spec.RerunOf, *rerun.Spec.ActiveDeadlineSeconds)
	}

	// Another change of the Workflow does not answer the request again.
	update(t, env, wf, func(w *kubeciv1.Workflow) { w.Labels = map[string]string{"touched": "yes"} })
	// Refused requests start nothing, and are recorded as answered.
	request(runrequest.RerunValue("no-such-run", "r2"))
	request(runrequest.RerunValue(foreign.Name, "r3"))
	request("not-a-rerun-request")
	// A second request for the same run starts a second rerun.
	request(runrequest.RerunValue(original.Name, "r4"))
	waitWorkplans(t, env, ns, wf.Name, 3)

	var events corev1.EventList
	testenv.Eventually(t, "refusals to be told in events", func() error {
		if err := env.Client.List(ctx, &events, client.InNamespace(ns)); err != nil {
			return err
		}
		n := 0
		for _, e := range events.Items {
			if e.Reason == "RerunRequestRejected" {
				n++
			}
		}
		if n < 3 {
			return errNotYet
		}
		return nil
	})

	// The rerun's spec.rerunOf is as fixed as the rest of its spec.
	changed := rerun.DeepCopy()
	changed.Spec.RerunOf = "something-else"
	if err := env.Client.Update(ctx, changed); err == nil {
		t.Error("changing spec.rerunOf must be refused")
	}
}

func TestRerunRefusal(t *testing.T) {
	wf := &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{Name: "wf", UID: "u1"}}
	owned := func(workflow string, uid types.UID) *kubeciv1.Workplan {
		return &kubeciv1.Workplan{ObjectMeta: metav1.ObjectMeta{Name: "wp",
			OwnerReferences: []metav1.OwnerReference{{Kind: "Workflow", Name: workflow, UID: uid, Controller: ptr.To(true)}}},
			Spec: kubeciv1.WorkplanSpec{Workflow: workflow}}
	}
	cases := []struct {
		name string
		wp   *kubeciv1.Workplan
		want string
	}{
		{"own run", owned("wf", "u1"), ""},
		{"another workflow's run", owned("other", "u2"), "workplan wp is a run of workflow other, not of wf"},
		{"an earlier workflow of the same name", owned("wf", "u0"),
			"workplan wp was not started by this workflow (it belongs to an earlier workflow of the same name)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, rerunRefusal(wf, tc.wp)); diff != "" {
				t.Error(diff)
			}
		})
	}
}
