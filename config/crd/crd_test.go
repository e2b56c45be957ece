package crd

import (
	"testing"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

func TestWorkflows(t *testing.T) {
	crd := Workflows()
	if crd.Spec.Group != kubeciv1.GroupVersion.Group || crd.Spec.Names.Kind != "Workflow" {
		t.Fatalf("Workflows() is %s of group %s, want the Workflow CRD", crd.Spec.Names.Kind, crd.Spec.Group)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name == kubeciv1.GroupVersion.Version && v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
			return
		}
	}
	t.Fatalf("the Workflow CRD has no schema for %s", kubeciv1.GroupVersion.Version)
}
