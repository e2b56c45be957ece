package main

import (
	"context"
	"fmt"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// Argo's labels and annotations the simulator reads or writes (Argo's
// workflow/common package; not imported, to keep Argo's dependencies out of
// the product's go.mod).
const (
	argoLabelWorkflow        = "workflows.argoproj.io/workflow"
	argoLabelOutputsComplete = "workflows.argoproj.io/report-outputs-completed"
	argoAnnotationNodeID     = "workflows.argoproj.io/node-id"
	argoEnvNodeID            = "ARGO_NODE_ID"
)

var argoTaskResults = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflowtaskresults"}

// argoExecutor writes what the `wait` container of an Argo pod (argoexec
// wait, emissary executor) writes to the API server for a container template
// without outputs or artifacts, with the same requests:
//
//   - when it starts: creates the node's WorkflowTaskResult (named after the
//     node ID, labelled with the workflow and report-outputs-completed=false,
//     owned by the Workflow);
//   - when the main container has exited: merge-patches the result's outputs
//     (ReportOutputs; empty here), then merge-patches the label
//     report-outputs-completed=true (FinalizeOutput), which the controller
//     waits for before it completes the node.
//
// It does not fake what needs no API request (the init container's and the
// wait container's file work, log capture) or what this workload does not use
// (parameters, artifacts, progress patches).
type argoExecutor struct {
	dyn    dynamic.Interface
	writes *atomic.Int64
}

func (e *argoExecutor) started(ctx context.Context, pod *corev1.Pod) error {
	id, wf, err := argoNode(pod)
	if err != nil {
		return err
	}
	tr := argoTaskResult(pod.Namespace, id, wf)
	e.writes.Add(1)
	_, err = e.dyn.Resource(argoTaskResults).Namespace(pod.Namespace).Create(ctx, tr, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (e *argoExecutor) finishing(ctx context.Context, pod *corev1.Pod) error {
	id, _, err := argoNode(pod)
	if err != nil {
		return err
	}
	patches := []string{
		`{"outputs":{}}`,
		fmt.Sprintf(`{"metadata":{"labels":{%q:"true"}}}`, argoLabelOutputsComplete),
	}
	for _, p := range patches {
		e.writes.Add(1)
		_, err := e.dyn.Resource(argoTaskResults).Namespace(pod.Namespace).Patch(ctx, id, types.MergePatchType, []byte(p), metav1.PatchOptions{})
		if apierrors.IsNotFound(err) {
			// The create when the pod started failed: the executor upserts.
			if err = e.started(ctx, pod); err == nil {
				e.writes.Add(1)
				_, err = e.dyn.Resource(argoTaskResults).Namespace(pod.Namespace).Patch(ctx, id, types.MergePatchType, []byte(p), metav1.PatchOptions{})
			}
		}
		if err != nil {
			return fmt.Errorf("patching WorkflowTaskResult %s/%s: %w", pod.Namespace, id, err)
		}
	}
	return nil
}

// argoNode returns the node ID of an Argo pod (its annotation, else the wait
// container's ARGO_NODE_ID) and its Workflow (the controlling owner).
func argoNode(pod *corev1.Pod) (id string, wf metav1.OwnerReference, err error) {
	id = pod.Annotations[argoAnnotationNodeID]
	for _, c := range pod.Spec.Containers {
		for _, env := range c.Env {
			if id == "" && env.Name == argoEnvNodeID {
				id = env.Value
			}
		}
	}
	owner := metav1.GetControllerOf(pod)
	if owner == nil {
		for _, o := range pod.OwnerReferences {
			if o.Kind == "Workflow" {
				owner = &o
			}
		}
	}
	if id == "" || owner == nil {
		return "", wf, fmt.Errorf("pod %s/%s: no Argo node ID or no owning Workflow", pod.Namespace, pod.Name)
	}
	return id, *owner, nil
}

// argoTaskResult is the WorkflowTaskResult the executor creates when a pod
// starts.
func argoTaskResult(ns, nodeID string, wf metav1.OwnerReference) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "WorkflowTaskResult",
		"metadata": map[string]any{
			"name":      nodeID,
			"namespace": ns,
			"labels": map[string]any{
				argoLabelWorkflow:        wf.Name,
				argoLabelOutputsComplete: "false",
			},
			"ownerReferences": []any{map[string]any{
				"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "name": wf.Name, "uid": string(wf.UID),
			}},
		},
	}}
}
