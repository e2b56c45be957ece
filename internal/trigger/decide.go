package trigger

import (
	"cmp"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Object is what Decide needs to know of an object that matches (or matched) a
// trigger.
type Object struct {
	UID             types.UID
	APIVersion      string
	Kind            string
	Namespace       string
	Name            string
	ResourceVersion string
	// Generation is the object's Version for the triggers it matches: its
	// ResourceGeneration, or the versions of the fields they watch.
	Generation string
	// Created is the object's creation timestamp.
	Created time.Time
	// OnAddOrUpdate and OnDelete are the event switches of the triggers it
	// matches, ORed.
	OnAddOrUpdate bool
	OnDelete      bool
	// Paths are the fields the matching triggers watch; a run records their
	// values.
	Paths []FieldPath
	// Source is the object's state, from the informer cache (not to be
	// modified), or nil when nobody saw it (deleted while the operator was
	// down). A run records it.
	Source *unstructured.Unstructured
}

// Input is everything Decide looks at. It must come from informer caches that
// have synced, or a missing object would look deleted.
type Input struct {
	// Observed is the Workflow's status.lastObservedResourceGeneration.
	Observed map[string]string
	// Matching are the objects that match at least one trigger now.
	Matching []Object
	// Unmatched are UIDs of Observed whose objects still exist but no longer
	// match any trigger.
	Unmatched map[types.UID]bool
	// Gone holds the last known state of objects seen deleted. An Observed UID
	// that neither matches nor is Unmatched was deleted; when Gone lacks its
	// state (it was deleted while the operator was down) DeletedFallback
	// describes it.
	Gone map[types.UID]Object
	// DeletedFallback stands for a deleted object whose state is unknown: its
	// kind and name when every onDelete trigger agrees on them, and OnDelete true
	// when any trigger has onDelete.
	DeletedFallback Object
	// Baseline means the triggers changed (or are watched for the first
	// time) since Observed was recorded: an object missing from Observed was
	// already there, so it is recorded without starting a run; and an Observed
	// object that stopped matching is forgotten without an onDelete run.
	Baseline bool
}

// Fire is a run to start.
type Fire struct {
	Event  kubeciv1.EventType
	Object Object
}

// Output is what Decide decided.
type Output struct {
	// Fires are the runs to start, oldest object first.
	Fires []Fire
	// Observed is the new status.lastObservedResourceGeneration: one entry per
	// matching object, none for deleted ones.
	Observed map[string]string
	// Unchanged counts matching objects whose generation was already acted on.
	Unchanged int
	// Baselined counts objects recorded without a run because they predate
	// the triggers.
	Baselined int
	// Forgotten counts objects dropped from the record without a run (they
	// stopped matching).
	Forgotten int
}

// Decide compares the matching objects with the generations last acted on:
//
//   - a matching object whose generation is recorded and unchanged (see
//     Compare for triggers that watch fields): nothing;
//   - recorded with another generation: Updated (if onAddOrUpdate);
//   - not recorded: Added (if onAddOrUpdate), whether it is new or just
//     started matching the selector, unless Baseline says the triggers are
//     new, or its triggers watch fields it does not have yet;
//   - recorded but gone: Deleted (if onDelete), and the entry is removed;
//   - recorded but no longer matching: the entry is removed, no run.
//
// The new record holds every matching object, including those that did not
// start a run because their trigger's switch was off, so a later change is
// still recognised as one.
func Decide(in Input) Output {
	out := Output{Observed: make(map[string]string, len(in.Matching))}
	matching := slices.Clone(in.Matching)
	slices.SortFunc(matching, byAge)
	for _, obj := range matching {
		uid := string(obj.UID)
		prev, known := in.Observed[uid]
		out.Observed[uid] = obj.Generation
		switch {
		case known:
			changed, record := Compare(prev, obj.Generation)
			out.Observed[uid] = record
			switch {
			case !changed:
				out.Unchanged++
			case obj.OnAddOrUpdate:
				out.Fires = append(out.Fires, Fire{Event: kubeciv1.EventUpdated, Object: obj})
			}
		case in.Baseline:
			out.Baselined++
		case !Fresh(obj.Generation):
			out.Unchanged++ // none of its watched fields is set yet
		case obj.OnAddOrUpdate:
			out.Fires = append(out.Fires, Fire{Event: kubeciv1.EventAdded, Object: obj})
		}
	}

	var deleted []Object
	for uid, gen := range in.Observed {
		if _, ok := out.Observed[uid]; ok {
			continue
		}
		if in.Unmatched[types.UID(uid)] || in.Baseline {
			out.Forgotten++
			continue
		}
		obj, ok := in.Gone[types.UID(uid)]
		if !ok {
			obj = in.DeletedFallback
			obj.UID = types.UID(uid)
		}
		obj.Generation = gen // the last generation acted on
		if obj.OnDelete {
			deleted = append(deleted, obj)
		} else {
			out.Forgotten++
		}
	}
	slices.SortFunc(deleted, byAge)
	for _, obj := range deleted {
		out.Fires = append(out.Fires, Fire{Event: kubeciv1.EventDeleted, Object: obj})
	}
	return out
}

// byAge orders objects by creation, then namespace, name and UID, so that the
// order of runs is deterministic.
func byAge(a, b Object) int {
	return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name), cmp.Compare(a.UID, b.UID))
}
