package trigger

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Target is the resolved kind a trigger watches, and where.
type Target struct {
	// GVR is the group, version and plural resource name.
	GVR schema.GroupVersionResource
	// Kind is the kind's name, for example "ConfigMap".
	Kind string
	// Namespace is the namespace watched; empty for cluster-scoped kinds.
	Namespace string
}

// APIVersion is the target's group/version in the form objects carry it.
func (t Target) APIVersion() string { return t.GVR.GroupVersion().String() }

// Filter is one trigger of a Workflow, resolved and compiled.
type Filter struct {
	// Index is the trigger's position in spec.triggers.
	Index int
	Target
	// Name, when not empty, is the only object name that matches.
	Name string
	// Selector matches the object's labels.
	Selector      labels.Selector
	OnAddOrUpdate bool
	OnDelete      bool
}

// NewFilter compiles trigger index of a Workflow whose kind resolved to target.
func NewFilter(index int, t *kubeciv1.Trigger, target Target) (Filter, error) {
	sel := labels.Everything()
	if t.Selector != nil {
		s, err := metav1.LabelSelectorAsSelector(t.Selector)
		if err != nil {
			return Filter{}, fmt.Errorf("spec.triggers[%d].selector: %w", index, err)
		}
		sel = s
	}
	return Filter{Index: index, Target: target, Name: t.Name, Selector: sel,
		OnAddOrUpdate: t.OnAddOrUpdate, OnDelete: t.OnDelete}, nil
}

// Matches reports whether obj, an object of the filter's kind, matches its
// namespace, name and label selector. Names are compared exactly.
func (f *Filter) Matches(obj metav1.Object) bool {
	if obj == nil {
		return false
	}
	if f.Namespace != "" && obj.GetNamespace() != f.Namespace {
		return false
	}
	if f.Name != "" && obj.GetName() != f.Name {
		return false
	}
	return f.Selector.Matches(labels.Set(obj.GetLabels()))
}

// RequiredLabel returns a label the filter's selector requires, and the
// values it allows, when there is one (from matchLabels, or a
// matchExpressions "In"): only objects carrying the label with one of the
// values can match, so they can be looked up in a label index instead of
// looking at every object. ok is false when the selector requires no such
// label (no selector, or only Exists, DoesNotExist and NotIn).
func (f *Filter) RequiredLabel() (name string, values []string, ok bool) {
	reqs, selectable := f.Selector.Requirements()
	if !selectable {
		return "", nil, false
	}
	for _, r := range reqs {
		switch r.Operator() {
		case selection.Equals, selection.DoubleEquals, selection.In:
			return r.Key(), r.Values().List(), true
		}
	}
	return "", nil, false
}

// Switches ORs the event switches of the filters of target that match obj. It
// reports matched false when none does.
func Switches(filters []Filter, target Target, obj metav1.Object) (onAddOrUpdate, onDelete, matched bool) {
	for i := range filters {
		f := &filters[i]
		if f.Target != target || !f.Matches(obj) {
			continue
		}
		matched = true
		onAddOrUpdate = onAddOrUpdate || f.OnAddOrUpdate
		onDelete = onDelete || f.OnDelete
	}
	return onAddOrUpdate, onDelete, matched
}
