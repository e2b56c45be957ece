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
	// FieldPaths, when not empty, are the only fields whose changes count.
	FieldPaths []FieldPath
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
	var paths []FieldPath
	for i, text := range t.FieldPaths {
		p, err := ParseFieldPath(text)
		if err != nil {
			return Filter{}, fmt.Errorf("spec.triggers[%d].fieldPaths[%d]: %w", index, i, err)
		}
		paths = append(paths, p)
	}
	return Filter{Index: index, Target: target, Name: t.Name, Selector: sel,
		OnAddOrUpdate: t.OnAddOrUpdate, OnDelete: t.OnDelete, FieldPaths: paths}, nil
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
	return f.Selector.Matches(labelsOf(obj))
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

// Match is what the filters an object matches ask of it.
type Match struct {
	// OnAddOrUpdate and OnDelete are the matching filters' event switches,
	// ORed.
	OnAddOrUpdate bool
	OnDelete      bool
	// Paths are the fields the matching filters watch (sorted, distinct), and
	// Whole is true when one of them watches the whole object.
	Paths []FieldPath
	Whole bool
}

// MatchObject combines the filters of target that match obj. It reports
// matched false when none does.
func MatchObject(filters []Filter, target Target, obj metav1.Object) (m Match, matched bool) {
	var hits []*Filter
	for i := range filters {
		f := &filters[i]
		if f.Target != target || !f.Matches(obj) {
			continue
		}
		hits = append(hits, f)
		m.OnAddOrUpdate = m.OnAddOrUpdate || f.OnAddOrUpdate
		m.OnDelete = m.OnDelete || f.OnDelete
	}
	m.Paths, m.Whole = WatchedPaths(hits)
	return m, len(hits) > 0
}

// Version is obj's version (see Version) for the matching filters, given its
// resource generation.
func (m Match) Version(obj map[string]any, resourceGeneration string) string {
	return Version(obj, m.Paths, m.Whole, resourceGeneration)
}
