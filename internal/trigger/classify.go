package trigger

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// EventClass is what an informer event means to one Workflow's triggers, as
// counted by kubeci_trigger_events_total.
type EventClass string

const (
	// EventFiltered: the object matches no trigger, before or after.
	EventFiltered EventClass = "filtered"
	// EventDuplicate: the object matches before and after, and its version
	// for the triggers (resource generation or watched fields) did not change.
	EventDuplicate EventClass = "duplicate"
	// EventAccepted: the Workflow is to decide about the object.
	EventAccepted EventClass = "accepted"
)

// Classify says what an informer event, the object going from old to new,
// means to filters (the triggers of one Workflow on one target): old is nil
// for an added object and new is nil for a deleted one. generation gives an
// object's resource generation (the caller caches it); it is asked only for
// an update that matches before and after, and when it fails the update is
// accepted.
func Classify(filters []Filter, old, new *unstructured.Unstructured, generation func(*unstructured.Unstructured) (string, error)) EventClass {
	if len(filters) == 0 {
		return EventFiltered
	}
	target := filters[0].Target
	switch {
	case old == nil && new == nil:
		return EventFiltered
	case old == nil:
		return acceptedIf(MatchObject(filters, target, new))
	case new == nil:
		return acceptedIf(MatchObject(filters, target, old))
	}
	oldMatch, oldOK := MatchObject(filters, target, old)
	newMatch, newOK := MatchObject(filters, target, new)
	if !oldOK && !newOK {
		return EventFiltered
	}
	if oldOK && newOK {
		oldGen, err1 := generation(old)
		newGen, err2 := generation(new)
		if err1 == nil && err2 == nil {
			if changed, _ := Compare(oldMatch.Version(old.Object, oldGen), newMatch.Version(new.Object, newGen)); !changed {
				return EventDuplicate
			}
		}
	}
	return EventAccepted
}

func acceptedIf(_ Match, ok bool) EventClass {
	if ok {
		return EventAccepted
	}
	return EventFiltered
}
