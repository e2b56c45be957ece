package workflow

import (
	"context"
	"errors"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/testenv"
)

var errNotYet = errors.New("not yet")

// An invalid Workflow is reported on its status, with every error, and the
// operator keeps serving the valid one next to it.
func TestInvalidWorkflowIsReportedAndOthersKeepWorking(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	cyclic := workflowWith(ns, "cyclic", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true})
	cyclic.Spec.Steps = []kubeciv1.Step{
		{Name: "build", Image: "busybox", Commands: []string{"true"}, Dependency: []string{"test"}},
		{Name: "test", Image: "busybox", Commands: []string{"true"}, Dependency: []string{"build"}},
		{Name: "bad", Image: "busybox"},
	}
	valid := workflowWith(ns, "valid", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true})
	create(t, env, cyclic)
	create(t, env, valid)
	startOperator(t, env, ns)

	got := waitReady(t, env, cyclic, metav1.ConditionFalse, kubeciv1.ReasonInvalidSpec)
	msg := got.Status.Conditions[0].Message
	for _, want := range []string{
		"spec.steps[0].dependency[0]: dependency cycle: build -> test -> build",
		`spec.steps[2].commands: step "bad" needs commands, args or both`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("Ready message must say %q, got:\n%s", want, msg)
		}
	}
	if got.Status.LastObservedGeneration != 0 {
		t.Errorf("an invalid workflow watches nothing: lastObservedGeneration = %d", got.Status.LastObservedGeneration)
	}

	waitReady(t, env, valid, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	create(t, env, configMap(ns, "c", nil, "1"))
	waitWorkplans(t, env, ns, valid.Name, 1)
	waitWorkplans(t, env, ns, cyclic.Name, 0)

	// Fixing it makes it work.
	update(t, env, cyclic, func(w *kubeciv1.Workflow) {
		w.Spec.Steps = w.Spec.Steps[:1]
		w.Spec.Steps[0].Dependency = nil
	})
	waitReady(t, env, cyclic, metav1.ConditionTrue, kubeciv1.ReasonWatching)
}

// A ServiceAccount that may not read the trigger's objects makes the Workflow
// Forbidden and nothing is watched for it.
func TestForbiddenServiceAccountWatchesNothing(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps") // for "default", not for "restricted"
	restricted := workflowWith(ns, "restricted", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true})
	restricted.Spec.ServiceAccountName = "restricted"
	allowed := workflowWith(ns, "allowed", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true})
	create(t, env, restricted)
	create(t, env, allowed)
	startOperator(t, env, ns)

	got := waitReady(t, env, restricted, metav1.ConditionFalse, kubeciv1.ReasonForbidden)
	if msg := got.Status.Conditions[0].Message; !strings.Contains(msg, "service account "+ns+"/restricted may not list configmaps in namespace "+ns) {
		t.Errorf("unexpected message: %s", msg)
	}
	waitReady(t, env, allowed, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	create(t, env, configMap(ns, "c", nil, "1"))
	waitWorkplans(t, env, ns, allowed.Name, 1) // the event was handled...
	waitWorkplans(t, env, ns, restricted.Name, 0)
}

// A trigger on a kind whose CRD is installed after the Workflow starts working
// by itself once the CRD is there.
func TestTriggerOnCRDInstalledLater(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "example.kube.ci", "widgets")
	wf := workflowWith(ns, "widgets", kubeciv1.Trigger{APIVersion: "example.kube.ci/v1", Kind: "Widget", OnAddOrUpdate: true})
	create(t, env, wf)
	startOperator(t, env, ns)
	got := waitReady(t, env, wf, metav1.ConditionFalse, kubeciv1.ReasonUnknownResource)
	if msg := got.Status.Conditions[0].Message; !strings.Contains(msg, "does not serve kind Widget in example.kube.ci/v1") {
		t.Errorf("unexpected message: %s", msg)
	}

	crd := widgetCRD()
	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{CRDs: []*apiextensionsv1.CustomResourceDefinition{crd}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Client.Delete(context.Background(), crd) })
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)

	w := &unstructured.Unstructured{}
	w.SetAPIVersion("example.kube.ci/v1")
	w.SetKind("Widget")
	w.SetNamespace(ns)
	w.SetName("w1")
	_ = unstructured.SetNestedField(w.Object, "blue", "spec", "color")
	if err := env.Client.Create(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	wps := waitWorkplans(t, env, ns, wf.Name, 1)
	if tr := wps[0].Spec.Trigger; tr.Kind != "Widget" || tr.Name != "w1" || tr.ResourceGeneration != "1" {
		t.Errorf("unexpected trigger %+v", tr)
	}
}

func widgetCRD() *apiextensionsv1.CustomResourceDefinition {
	preserve := true
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.example.kube.ci"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "example.kube.ci",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: &preserve,
				}},
				Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
			}},
		},
	}
}

// Asking for a run with the annotation starts exactly one Manual run per
// request.
func TestRunRequests(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	wf := workflowWith(ns, "manual")
	create(t, env, wf)
	startOperator(t, env, ns)
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)

	request := func(id string) {
		update(t, env, wf, func(w *kubeciv1.Workflow) {
			w.Annotations = map[string]string{kubeciv1.AnnotationRunRequest: id}
		})
	}
	handled := func(id string) {
		testenv.Eventually(t, "request "+id+" to be handled", func() error {
			got := &kubeciv1.Workflow{}
			if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(wf), got); err != nil {
				return err
			}
			if got.Status.LastHandledRunRequest != id {
				return errNotYet
			}
			return nil
		})
	}
	request("r1")
	handled("r1")
	got := waitWorkplans(t, env, ns, wf.Name, 1)
	if got[0].Spec.Trigger.Event != kubeciv1.EventManual || got[0].Labels[kubeciv1.LabelRunRequest] != "r1" {
		t.Errorf("want a Manual run labelled with its request, got %+v %v", got[0].Spec.Trigger, got[0].Labels)
	}
	// Another change of the Workflow does not repeat the request.
	update(t, env, wf, func(w *kubeciv1.Workflow) { w.Labels = map[string]string{"touched": "yes"} })
	request("r2")
	handled("r2")
	waitWorkplans(t, env, ns, wf.Name, 2)
}

// Granting a Forbidden Workflow's ServiceAccount the access it lacked makes it
// watch on its own, soon.
func TestForbiddenWorkflowRecoversWhenGranted(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	wf := workflowWith(ns, "later", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true})
	create(t, env, wf)
	startOperator(t, env, ns)
	waitReady(t, env, wf, metav1.ConditionFalse, kubeciv1.ReasonForbidden)
	grantWatch(t, env, ns, "", "configmaps")
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
}
