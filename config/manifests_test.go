// Package config holds Kube CI's Kubernetes manifests; its test applies them to
// a real API server.
package config

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// build renders a kustomization the way `kubectl apply -k` does.
func build(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	resmap, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	var objs []*unstructured.Unstructured
	for _, res := range resmap.Resources() {
		m, err := res.Map()
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	return objs
}

// `kubectl apply -k config/default` installs Kube CI: every object is accepted
// by a real API server (applied for real, namespace first), and the policy it
// installs keeps anyone but the operator from creating Workplans.
func TestDefaultInstallApplies(t *testing.T) {
	env := testenv.Get(t)
	ctx := context.Background()
	kinds := map[string]int{}
	objs := build(t, "default")
	// kubectl applies namespaces first; so do we.
	sort.SliceStable(objs, func(i, j int) bool { return objs[i].GetKind() == "Namespace" && objs[j].GetKind() != "Namespace" })
	for _, obj := range objs {
		kinds[obj.GetKind()]++
		obj.SetManagedFields(nil)
		if err := env.Client.Patch(ctx, obj, client.Apply, client.FieldOwner("kubectl"), client.ForceOwnership); err != nil {
			t.Errorf("applying %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
	for kind, want := range map[string]int{"Namespace": 1, "CustomResourceDefinition": 3, "ServiceAccount": 1,
		"ClusterRole": 4, "ClusterRoleBinding": 2, "Role": 1, "RoleBinding": 1, "Deployment": 1,
		"ValidatingAdmissionPolicy": 1, "ValidatingAdmissionPolicyBinding": 1} {
		if kinds[kind] != want {
			t.Errorf("config/default has %d %s, want %d", kinds[kind], kind, want)
		}
	}

	wp := func(name string) *kubeciv1.Workplan {
		return &kubeciv1.Workplan{
			ObjectMeta: metav1.ObjectMeta{Namespace: "kubeci-system", Name: name},
			Spec: kubeciv1.WorkplanSpec{Workflow: "wf", Trigger: kubeciv1.TriggerEvent{Event: kubeciv1.EventManual},
				Tasks: []kubeciv1.Task{{ParallelSteps: []kubeciv1.Step{{Name: "s", Image: "busybox", Commands: []string{"true"}}}}}},
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := env.Client.Create(ctx, wp("by-admin"))
		if err != nil && strings.Contains(err.Error(), "created by the Kube CI operator") {
			break
		}
		if err == nil {
			_ = env.Client.Delete(ctx, wp("by-admin"))
		}
		if time.Now().After(deadline) {
			t.Fatalf("the admission policy must refuse Workplans made by others than the operator, got %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	asOperator := rest.CopyConfig(env.Config)
	asOperator.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:kubeci-system:kubeci-operator",
		Groups: []string{"system:serviceaccounts", "system:authenticated"}}
	c, err := client.New(asOperator, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, wp("by-operator"), &client.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("the operator's ServiceAccount must be allowed to create Workplans: %v", err)
	}
}
