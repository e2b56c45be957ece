// Package v1alpha1 holds the kube.ci/v1alpha1 API: Workflow, which lists container
// steps and the Kubernetes resources whose changes trigger them, and Workplan, one
// run of a Workflow resolved into ordered tasks.
//
// The design doc writes a task's fields as SerialSteps and ParallelSteps; this API
// uses Kubernetes' camelCase JSON names, serialSteps and parallelSteps.
//
// +kubebuilder:object:generate=true
// +groupName=kube.ci
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of every kind in this package.
	GroupVersion = schema.GroupVersion{Group: "kube.ci", Version: "v1alpha1"}

	// SchemeBuilder registers this package's kinds with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds this package's kinds to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
