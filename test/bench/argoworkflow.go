package main

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// argoWorkflow is Kube CI's steps as an Argo Workflow: a DAG template
// "main" with one task per step (same names, same dependencies), each task
// running a container template of the step's image, command and arguments.
// Argo runs a pod per task; Kube CI groups the same steps into tasks of its
// own (see internal/plan).
func argoWorkflow(ns, name string, steps []kubeciv1.Step) *unstructured.Unstructured {
	tasks := make([]any, 0, len(steps))
	templates := []any{nil} // the DAG first
	for _, s := range steps {
		task := map[string]any{"name": s.Name, "template": s.Name}
		if len(s.Dependency) > 0 {
			task["dependencies"] = anys(s.Dependency)
		}
		tasks = append(tasks, task)
		container := map[string]any{"image": s.Image}
		if len(s.Commands) > 0 {
			container["command"] = anys(s.Commands)
		}
		if len(s.Args) > 0 {
			container["args"] = anys(s.Args)
		}
		templates = append(templates, map[string]any{"name": s.Name, "container": container})
	}
	templates[0] = map[string]any{"name": "main", "dag": map[string]any{"tasks": tasks}}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Workflow",
		"metadata":   map[string]any{"name": name, "namespace": ns},
		"spec":       map[string]any{"entrypoint": "main", "templates": templates},
	}}
}

// anys converts to the []any that unstructured objects hold.
func anys(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
