package workflow

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubeci/kubeci/internal/trigger"
	"github.com/kubeci/kubeci/internal/watch"
)

// ownerIndex finds the Workflows an informer event may concern without
// looking at every Workflow watching the kind: a Workflow each of whose
// filters of an informer requires a label (a selector with matchLabels or an
// "In" expression) is indexed under each label=value its filters allow, and
// only objects carrying one of them can match it; the others are looked at
// for every event. 1,000 Workflows over 100,000 ConfigMaps each selecting its
// own share cost 100 million filter checks at start-up without it, and 100
// thousand with it.
type ownerIndex struct {
	byLabel map[watch.Key]map[string]map[types.NamespacedName]bool
	always  map[watch.Key]map[types.NamespacedName]bool
}

func newOwnerIndex() *ownerIndex {
	return &ownerIndex{byLabel: map[watch.Key]map[string]map[types.NamespacedName]bool{},
		always: map[watch.Key]map[types.NamespacedName]bool{}}
}

// set indexes owner's filters of informer key.
func (x *ownerIndex) set(key watch.Key, owner types.NamespacedName, filters []trigger.Filter) {
	labels, ok := indexLabels(filters)
	if !ok {
		if x.always[key] == nil {
			x.always[key] = map[types.NamespacedName]bool{}
		}
		x.always[key][owner] = true
		return
	}
	if x.byLabel[key] == nil {
		x.byLabel[key] = map[string]map[types.NamespacedName]bool{}
	}
	for _, l := range labels {
		if x.byLabel[key][l] == nil {
			x.byLabel[key][l] = map[types.NamespacedName]bool{}
		}
		x.byLabel[key][l][owner] = true
	}
}

// drop forgets owner's filters of informer key, indexed with filters.
func (x *ownerIndex) drop(key watch.Key, owner types.NamespacedName, filters []trigger.Filter) {
	delete(x.always[key], owner)
	if len(x.always[key]) == 0 {
		delete(x.always, key)
	}
	labels, ok := indexLabels(filters)
	if !ok {
		return
	}
	for _, l := range labels {
		delete(x.byLabel[key][l], owner)
		if len(x.byLabel[key][l]) == 0 {
			delete(x.byLabel[key], l)
		}
	}
	if len(x.byLabel[key]) == 0 {
		delete(x.byLabel, key)
	}
}

// indexLabels are the label=value pairs filters are indexed under: those
// each filter requires one of. ok is false when a filter requires none, so
// that the filters must be looked at for every event.
func indexLabels(filters []trigger.Filter) (labels []string, ok bool) {
	for _, f := range filters {
		name, values, ok := f.RequiredLabel()
		if !ok {
			return nil, false
		}
		for _, v := range values {
			labels = append(labels, labelPair(name, v))
		}
	}
	return labels, true
}

// labelPair is the index key of a label's value.
func labelPair(name, value string) string { return name + "=" + value }

// owners returns the Workflows whose filters of key may match one of objs
// (an event's old and new states; nil ones are skipped).
func (x *ownerIndex) owners(key watch.Key, objs ...*unstructured.Unstructured) map[types.NamespacedName]bool {
	out := make(map[types.NamespacedName]bool, len(x.always[key]))
	for owner := range x.always[key] {
		out[owner] = true
	}
	byLabel := x.byLabel[key]
	if len(byLabel) == 0 {
		return out
	}
	for _, obj := range objs {
		if obj == nil {
			continue
		}
		meta, _ := obj.Object["metadata"].(map[string]any)
		labels, _ := meta["labels"].(map[string]any)
		for name, v := range labels {
			value, _ := v.(string)
			for owner := range byLabel[labelPair(name, value)] {
				out[owner] = true
			}
		}
	}
	return out
}
