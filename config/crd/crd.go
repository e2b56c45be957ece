// Package crd gives Go code the CustomResourceDefinitions controller-gen
// writes to bases/ (make manifests), as shipped: kubeci validate checks
// Workflows against the very schema and CEL rules the API server enforces.
package crd

import (
	_ "embed"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

//go:embed bases/kube.ci_workflows.yaml
var workflowsYAML []byte

// Workflows returns a new copy of the Workflow CRD
// (bases/kube.ci_workflows.yaml). It panics if the file does not decode
// strictly, which crd_test.go rules out.
func Workflows() *apiextensionsv1.CustomResourceDefinition {
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(workflowsYAML, crd); err != nil {
		panic("config/crd: the Workflow CRD does not decode: " + err.Error())
	}
	return crd
}
