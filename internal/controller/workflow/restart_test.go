package workflow

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/testenv"
)

// An operator restart triggers nothing for unchanged objects, and exactly one
// run for each object changed, created or deleted while it was down.
func TestRestartFiresOnlyForChangesMadeWhileDown(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	grantWatch(t, env, ns, "", "configmaps")
	wf := workflowWith(ns, "all", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true, OnDelete: true})
	create(t, env, wf)
	op := startOperator(t, env, ns)
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	a, b, c := configMap(ns, "a", nil, "1"), configMap(ns, "b", nil, "1"), configMap(ns, "c", nil, "1")
	for _, cm := range []*corev1.ConfigMap{a, b, c} {
		create(t, env, cm)
	}
	waitWorkplans(t, env, ns, wf.Name, 3)

	op.stopOperator()
	before := decisions("unchanged")
	op = startOperator(t, env, ns)
	waitCount(t, "the restarted operator to decide on the 3 unchanged objects", func() float64 { return decisions("unchanged") }, before+3)
	waitWorkplans(t, env, ns, wf.Name, 3)

	op.stopOperator()
	update(t, env, b, func(cm *corev1.ConfigMap) { cm.Data["data"] = "2" })
	if err := env.Client.Delete(ctx, c); err != nil {
		t.Fatal(err)
	}
	create(t, env, configMap(ns, "d", nil, "1"))
	startOperator(t, env, ns)
	got := waitWorkplans(t, env, ns, wf.Name, 6)

	var events []string
	for _, wp := range got[3:] {
		events = append(events, string(wp.Spec.Trigger.Event)+" "+string(wp.Spec.Trigger.UID))
	}
	d := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "d"}, d); err != nil {
		t.Fatal(err)
	}
	// Runs decided together are created in no particular order.
	want := []string{"Updated " + string(b.UID), "Added " + string(d.UID), "Deleted " + string(c.UID)}
	if diff := cmp.Diff(want, events, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("runs after the restart (-want +got):\n%s", diff)
	}
	// What is known of an object deleted while the operator was down.
	for _, wp := range got[3:] {
		if del := wp.Spec.Trigger; del.Event == kubeciv1.EventDeleted &&
			(del.Kind != "ConfigMap" || del.Namespace != ns || del.APIVersion != "v1") {
			t.Errorf("the Deleted run must name the kind and namespace, got %+v", del)
		}
	}
}

// If the operator dies after creating a Workplan and before recording the
// change in the Workflow's status, the next decision finds the Workplan under
// the same name and does not start a second run.
func TestCrashBetweenCreateAndStatusStartsNoDuplicate(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	grantWatch(t, env, ns, "", "configmaps")
	wf := workflowWith(ns, "all", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true})
	create(t, env, wf)
	nextSecond() // the ConfigMap must be created after the Workflow
	cm := configMap(ns, "a", nil, "1")
	create(t, env, cm)

	// Play the operator that died: the Workplan exists, the status says nothing.
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(wf), wf); err != nil {
		t.Fatal(err)
	}
	name := names.Workplan(wf.Name, string(wf.UID), string(cm.UID), cm.ResourceVersion, string(kubeciv1.EventAdded))
	wp, err := plan.NewWorkplan(wf, kubeciv1.TriggerEvent{Event: kubeciv1.EventAdded, UID: cm.UID}, name)
	if err != nil {
		t.Fatal(err)
	}
	create(t, env, wp)

	startOperator(t, env, ns)
	testenv.Eventually(t, "the change to be recorded", func() error {
		got := waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
		if _, ok := got.Status.LastObservedResourceGeneration[string(cm.UID)]; !ok {
			return errNotYet
		}
		return nil
	})
	if got := workplans(t, env, ns, wf.Name); len(got) != 1 || got[0].Name != name {
		t.Errorf("want only the Workplan created before the crash, got %v", describe(got))
	}
}

// When a Workflow's triggers change, objects that already exist are recorded
// without a run; later changes fire.
func TestChangedTriggersBaselineExistingObjects(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	wf := workflowWith(ns, "switching", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", Name: "first", OnAddOrUpdate: true})
	create(t, env, wf)
	startOperator(t, env, ns)
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	other := configMap(ns, "other", map[string]string{"app": "x"}, "1")
	create(t, env, other)

	before := decisions("baselined")
	update(t, env, wf, func(w *kubeciv1.Workflow) {
		w.Spec.Triggers[0].Name = ""
		w.Spec.Triggers[0].Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}
	})
	waitCount(t, "the existing object to be baselined", func() float64 { return decisions("baselined") }, before+1)
	waitWorkplans(t, env, ns, wf.Name, 0)

	update(t, env, other, func(cm *corev1.ConfigMap) { cm.Data["data"] = "2" })
	got := waitWorkplans(t, env, ns, wf.Name, 1)
	if got[0].Spec.Trigger.Event != kubeciv1.EventUpdated {
		t.Errorf("want an Updated run, got %+v", got[0].Spec.Trigger)
	}
}
