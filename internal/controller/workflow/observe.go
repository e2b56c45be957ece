package workflow

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/trigger"
	"github.com/kubeci/kubeci/internal/watch"
)

// observe gathers Decide's input for wf from the synced shared informers.
// observed is the record of acted-on changes.
func (r *Reconciler) observe(wf *kubeciv1.Workflow, owner types.NamespacedName, filters []trigger.Filter, observed map[string]string) (trigger.Input, error) {
	in := trigger.Input{
		Observed:        observed,
		Unmatched:       map[types.UID]bool{},
		Gone:            r.dispatch.goneObjects(owner),
		Baseline:        trigger.BaselineFor(wf.Status.ObservedTriggers, trigger.TriggersHash(wf.Spec.Triggers)),
		DeletedFallback: trigger.DeletedFallback(filters),
	}
	seen := map[types.UID]bool{}
	for _, target := range targetsOf(filters) {
		for _, obj := range r.candidates(filters, target) {
			m, ok := trigger.MatchObject(filters, target, obj)
			if !ok || seen[obj.GetUID()] {
				continue
			}
			gen, err := r.gens.of(obj)
			if err != nil {
				return in, err
			}
			seen[obj.GetUID()] = true
			in.Matching = append(in.Matching, objectOf(obj, target, m, m.Version(obj.Object, gen)))
		}
	}
	for uid := range in.Observed {
		if seen[types.UID(uid)] {
			continue
		}
		for _, target := range targetsOf(filters) {
			if r.registry.HasUID(keyOf(target), types.UID(uid)) {
				in.Unmatched[types.UID(uid)] = true
			}
		}
	}
	return in, nil
}

// observeChanged gathers DecideChanged's input for the objects of changed
// from the synced shared informers; observed is the record of (at least)
// those objects.
func (r *Reconciler) observeChanged(owner types.NamespacedName, filters []trigger.Filter, observed map[string]string, changed map[types.UID]bool) (trigger.Input, error) {
	in := trigger.Input{
		Observed:        observed,
		Unmatched:       map[types.UID]bool{},
		Gone:            r.dispatch.goneObjects(owner),
		DeletedFallback: trigger.DeletedFallback(filters),
	}
	for uid := range changed {
		for _, target := range targetsOf(filters) {
			obj, ok := r.registry.ByUID(keyOf(target), uid)
			if !ok {
				continue
			}
			m, ok := trigger.MatchObject(filters, target, obj)
			if !ok {
				in.Unmatched[uid] = true
				continue
			}
			gen, err := r.gens.of(obj)
			if err != nil {
				return in, err
			}
			in.Matching = append(in.Matching, objectOf(obj, target, m, m.Version(obj.Object, gen)))
			break
		}
	}
	return in, nil
}

// candidates are the cached objects of target that may match filters, found
// as trigger.Lookups says. An object may be returned more than once.
func (r *Reconciler) candidates(filters []trigger.Filter, target trigger.Target) []*unstructured.Unstructured {
	key := keyOf(target)
	lookups, all := trigger.Lookups(filters, target)
	if all {
		return r.registry.List(key)
	}
	var out []*unstructured.Unstructured
	for _, l := range lookups {
		if l.Name == "" {
			out = append(out, r.registry.ByLabel(key, l.Label, l.Value)...)
		} else if obj, ok := r.registry.Get(key, target.Namespace, l.Name); ok {
			out = append(out, obj)
		}
	}
	return out
}

// targetsOf lists the distinct targets of filters, in trigger order.
func targetsOf(filters []trigger.Filter) []trigger.Target {
	var out []trigger.Target
	seen := map[trigger.Target]bool{}
	for _, f := range filters {
		if !seen[f.Target] {
			seen[f.Target] = true
			out = append(out, f.Target)
		}
	}
	return out
}

// keysOf lists the informers filters need.
func keysOf(filters []trigger.Filter) []watch.Key {
	var keys []watch.Key
	for _, t := range targetsOf(filters) {
		keys = append(keys, keyOf(t))
	}
	return keys
}
