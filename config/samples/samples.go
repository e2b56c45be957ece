// Package samples gives Go code the design doc's example Workflow, as shipped
// in this folder, for the tests and benchmarks that start from it.
package samples

import (
	_ "embed"

	"sigs.k8s.io/yaml"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

//go:embed kube.ci_v1alpha1_workflow.yaml
var workflowYAML []byte

// Workflow returns a new copy of the design doc's Workflow
// (kube.ci_v1alpha1_workflow.yaml): five steps in two tasks, triggered by
// ConfigMap my-config. It panics if the file does not decode strictly, which
// samples_test.go rules out.
func Workflow() *kubeciv1.Workflow {
	wf := &kubeciv1.Workflow{}
	if err := yaml.UnmarshalStrict(workflowYAML, wf); err != nil {
		panic("config/samples: the design doc's Workflow does not decode: " + err.Error())
	}
	return wf
}
