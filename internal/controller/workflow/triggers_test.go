package workflow

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/testenv"
	"github.com/kubeci/kubeci/internal/trigger"
)

// The design doc's Workflow and its ConfigMap trigger: one run per real change
// of my-config, none for metadata-only updates.
func TestDesignDocWorkflowFiresOncePerChange(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	wf := loadSample(t, env, ns)
	create(t, env, wf)
	startOperator(t, env, ns)
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)

	cm := configMap(ns, "my-config", nil, "v1")
	create(t, env, cm)
	got := waitWorkplans(t, env, ns, wf.Name, 1)
	wantTasks, _ := plan.Plan(wf.Spec.Steps)
	if diff := cmp.Diff(wantTasks, got[0].Spec.Tasks); diff != "" {
		t.Errorf("the Workplan must hold the doc's two tasks (-want +got):\n%s", diff)
	}
	trig := got[0].Spec.Trigger
	if trig.Event != kubeciv1.EventAdded || trig.Kind != "ConfigMap" || trig.APIVersion != "v1" ||
		trig.Name != "my-config" || trig.Namespace != ns || trig.UID != cm.UID || trig.ResourceVersion == "" {
		t.Errorf("unexpected trigger %+v", trig)
	}
	owner := metav1.GetControllerOf(&got[0])
	if owner == nil || owner.Kind != "Workflow" || owner.Name != wf.Name {
		t.Errorf("the Workplan must be owned by its Workflow, got %+v", owner)
	}
	// Created with the workspace-cleanup finalizer: the Workplan controller
	// need not add it with a request of its own.
	if !slices.Equal(got[0].Finalizers, []string{kubeciv1.FinalizerWorkspaceCleanup}) {
		t.Errorf("the Workplan's finalizers = %v, want [%s] from its creation", got[0].Finalizers, kubeciv1.FinalizerWorkspaceCleanup)
	}
	if got[0].GenerateName != "" || len(got[0].Name) <= len(wf.Name) || got[0].Name[:len(wf.Name)+1] != wf.Name+"-" {
		t.Errorf("the Workplan name must have the form <workflow>-<hash>, got %q", got[0].Name)
	}

	update(t, env, cm, func(c *corev1.ConfigMap) { c.Data["data"] = "v2" })
	got = waitWorkplans(t, env, ns, wf.Name, 2)
	if got[1].Spec.Trigger.Event != kubeciv1.EventUpdated {
		t.Errorf("want an Updated run, got %s", got[1].Spec.Trigger.Event)
	}

	before := eventsSeen(trigger.EventDuplicate)
	update(t, env, cm, func(c *corev1.ConfigMap) { c.Labels = map[string]string{"new": "label"} })
	update(t, env, cm, func(c *corev1.ConfigMap) { c.Annotations = map[string]string{"note": "x"} })
	waitCount(t, "the metadata-only updates to be seen as duplicates", func() float64 { return eventsSeen(trigger.EventDuplicate) }, before+2)
	waitWorkplans(t, env, ns, wf.Name, 2)

	if err := env.Client.Delete(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	got = waitWorkplans(t, env, ns, wf.Name, 3)
	if d := got[2].Spec.Trigger; d.Event != kubeciv1.EventDeleted || d.Name != "my-config" || d.UID != cm.UID {
		t.Errorf("want a Deleted run for my-config, got %+v", d)
	}
	testenv.Eventually(t, "the deleted object's entry to be pruned", func() error {
		final := waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
		if n := len(final.Status.LastObservedResourceGeneration); n != 0 {
			return fmt.Errorf("%d entries left: %v", n, final.Status.LastObservedResourceGeneration)
		}
		return nil
	})
}

func TestDeleteWithoutOnDeleteStartsNothing(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	wf := loadSample(t, env, ns)
	wf.Spec.Triggers[0].OnDelete = false
	create(t, env, wf)
	startOperator(t, env, ns)
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)

	cm := configMap(ns, "my-config", nil, "v1")
	create(t, env, cm)
	waitWorkplans(t, env, ns, wf.Name, 1)
	before := decisions("forgotten")
	if err := env.Client.Delete(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	waitCount(t, "the deletion to be decided", func() float64 { return decisions("forgotten") }, before+1)
	waitWorkplans(t, env, ns, wf.Name, 1)
}

// Each filter accepts what it names and rejects the rest.
func TestTriggerFilters(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	other := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	// The workflows' ServiceAccount lives in ns; let it read the other namespace too.
	grantWatchFor(t, env, other, ns, "", "configmaps")

	byName := workflowWith(ns, "by-name", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", Name: "wanted", OnAddOrUpdate: true})
	byNamespace := workflowWith(ns, "by-namespace", kubeciv1.Trigger{APIVersion: "v1", Resource: "configmaps", Namespace: other, OnAddOrUpdate: true})
	bySelector := workflowWith(ns, "by-selector", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true,
		Selector: &metav1.LabelSelector{
			MatchLabels:      map[string]string{"app": "web"},
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"test"}}},
		}})
	for _, wf := range []*kubeciv1.Workflow{byName, byNamespace, bySelector} {
		create(t, env, wf)
	}
	startOperator(t, env, ns)
	for _, wf := range []*kubeciv1.Workflow{byName, byNamespace, bySelector} {
		waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	}

	// Objects each filter must reject.
	create(t, env, configMap(ns, "wanted-not", nil, "x"))                                            // by-name: similar name
	create(t, env, configMap(ns, "other-ns-name", nil, "x"))                                         // by-namespace: wrong namespace
	create(t, env, configMap(ns, "test-tier", map[string]string{"app": "web", "tier": "test"}, "x")) // by-selector: expression
	create(t, env, configMap(ns, "no-app", map[string]string{"tier": "prod"}, "x"))                  // by-selector: labels
	create(t, env, configMap(other, "wanted", nil, "x"))                                             // by-name: other namespace (its own is ns)
	// Objects each filter must accept.
	create(t, env, configMap(ns, "wanted", nil, "x"))
	create(t, env, configMap(other, "anything", nil, "x"))
	create(t, env, configMap(ns, "web", map[string]string{"app": "web", "tier": "prod"}, "x"))

	for wf, want := range map[string][]string{
		"by-name":      {ns + "/wanted"},
		"by-namespace": {other + "/anything", other + "/wanted"},
		"by-selector":  {ns + "/web"},
	} {
		var got []string
		for _, wp := range waitWorkplans(t, env, ns, wf, len(want)) {
			got = append(got, wp.Spec.Trigger.Namespace+"/"+wp.Spec.Trigger.Name)
		}
		sort.Strings(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s fired for the wrong objects (-want +got):\n%s", wf, diff)
		}
	}

	// An object that starts matching the selector counts as added.
	nolabel := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "no-app"}}
	update(t, env, nolabel, func(c *corev1.ConfigMap) { c.Labels["app"] = "web" })
	got := waitWorkplans(t, env, ns, "by-selector", 2)
	if got[1].Spec.Trigger.Name != "no-app" || got[1].Spec.Trigger.Event != kubeciv1.EventAdded {
		t.Errorf("want an Added run for no-app once it matches, got %+v", got[1].Spec.Trigger)
	}
	waitWorkplans(t, env, ns, "by-name", 1)
	waitWorkplans(t, env, ns, "by-namespace", 2)
}

// A Deployment keeps metadata.generation: its status changing alone starts
// nothing, its spec changing starts a run.
func TestStatusOnlyUpdatesStartNothing(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "apps", "deployments")
	wf := workflowWith(ns, "deploys", kubeciv1.Trigger{APIVersion: "apps/v1", Kind: "Deployment", OnAddOrUpdate: true})
	create(t, env, wf)
	startOperator(t, env, ns)
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)

	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:1"}}},
			},
		},
	}
	create(t, env, dep)
	waitWorkplans(t, env, ns, wf.Name, 1)

	before := eventsSeen(trigger.EventDuplicate)
	for i := range 3 {
		dep.Status.Replicas = int32(i + 1)
		dep.Status.ObservedGeneration = dep.Generation
		if err := env.Client.Status().Update(context.Background(), dep); err != nil {
			t.Fatal(err)
		}
	}
	waitCount(t, "the status updates to be seen as duplicates", func() float64 { return eventsSeen(trigger.EventDuplicate) }, before+3)
	waitWorkplans(t, env, ns, wf.Name, 1)

	update(t, env, dep, func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "web:2" })
	got := waitWorkplans(t, env, ns, wf.Name, 2)
	if got[1].Spec.Trigger.Event != kubeciv1.EventUpdated || got[1].Spec.Trigger.ResourceGeneration != "2" {
		t.Errorf("want an Updated run at generation 2, got %+v", got[1].Spec.Trigger)
	}
}

// A new Workflow does not fire for objects that existed before it; objects
// created after it do fire.
func TestNewWorkflowIgnoresExistingObjects(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	create(t, env, configMap(ns, "old", nil, "x"))
	nextSecond()
	wf := workflowWith(ns, "all-configmaps", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true})
	create(t, env, wf)
	startOperator(t, env, ns)
	ready := waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	if len(ready.Status.LastObservedResourceGeneration) != 1 {
		t.Errorf("the existing object must be recorded, got %v", ready.Status.LastObservedResourceGeneration)
	}
	create(t, env, configMap(ns, "new", nil, "x"))
	got := waitWorkplans(t, env, ns, wf.Name, 1)
	if got[0].Spec.Trigger.Name != "new" {
		t.Errorf("want a run for the new object only, got %v", describe(got))
	}
}

// workflowWith is a one-step Workflow with the given triggers.
func workflowWith(ns, name string, triggers ...kubeciv1.Trigger) *kubeciv1.Workflow {
	return &kubeciv1.Workflow{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: kubeciv1.WorkflowSpec{
			Steps:    []kubeciv1.Step{{Name: "echo", Image: "busybox", Commands: []string{"echo", "hi"}}},
			Triggers: triggers,
		},
	}
}
