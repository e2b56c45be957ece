package workflow

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/trigger"
)

// resolveFilters resolves each trigger's kind through discovery and compiles
// its filter. A kind the API server does not serve is a problem (reason
// UnknownResource) that goes away on its own once, say, its CRD is installed;
// errors are discovery failures worth retrying.
func resolveFilters(mapper meta.RESTMapper, wf *kubeciv1.Workflow) ([]trigger.Filter, *problem, error) {
	var filters []trigger.Filter
	for i := range wf.Spec.Triggers {
		t := &wf.Spec.Triggers[i]
		target, prob, err := resolveTarget(mapper, i, t, wf.Namespace)
		if prob != nil || err != nil {
			return nil, prob, err
		}
		f, err := trigger.NewFilter(i, t, target)
		if err != nil {
			return nil, &problem{kubeciv1.ReasonInvalidSpec, err.Error()}, nil
		}
		filters = append(filters, f)
	}
	return filters, nil, nil
}

func resolveTarget(mapper meta.RESTMapper, i int, t *kubeciv1.Trigger, wfNamespace string) (trigger.Target, *problem, error) {
	gv, err := schema.ParseGroupVersion(t.APIVersion)
	if err != nil {
		return trigger.Target{}, &problem{kubeciv1.ReasonInvalidSpec, fmt.Sprintf("spec.triggers[%d].apiVersion: %v", i, err)}, nil
	}
	gvk := gv.WithKind(t.Kind)
	if t.Kind == "" {
		gvk, err = mapper.KindFor(gv.WithResource(t.Resource))
		if err != nil {
			return unknownOrError(i, t, err)
		}
	}
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return unknownOrError(i, t, err)
	}
	if t.Resource != "" && t.Resource != mapping.Resource.Resource {
		return trigger.Target{}, &problem{kubeciv1.ReasonInvalidSpec, fmt.Sprintf(
			"spec.triggers[%d].resource: %q is not the resource of kind %s, which is %q; set one of kind and resource, or both consistently",
			i, t.Resource, gvk.Kind, mapping.Resource.Resource)}, nil
	}
	target := trigger.Target{GVR: mapping.Resource, Kind: mapping.GroupVersionKind.Kind}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		target.Namespace = t.Namespace
		if target.Namespace == "" {
			target.Namespace = wfNamespace
		}
	}
	return target, nil, nil
}

func unknownOrError(i int, t *kubeciv1.Trigger, err error) (trigger.Target, *problem, error) {
	if !meta.IsNoMatchError(err) {
		return trigger.Target{}, nil, fmt.Errorf("resolving spec.triggers[%d]: %w", i, err)
	}
	what := "kind " + t.Kind
	if t.Kind == "" {
		what = "resource " + t.Resource
	}
	return trigger.Target{}, &problem{kubeciv1.ReasonUnknownResource, fmt.Sprintf(
		"spec.triggers[%d]: the API server does not serve %s in %s (is its CRD installed?); the operator retries on its own",
		i, what, t.APIVersion)}, nil
}

// apiextensionsCRD is the kind whose changes may make a trigger's kind served.
var apiextensionsCRD = schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}
