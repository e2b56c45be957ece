package trigger

import (
	"encoding/json"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
)

// TriggersHash identifies a list of triggers (status.observedTriggers).
func TriggersHash(triggers []kubeciv1.Trigger) string {
	data, _ := json.Marshal(triggers) // plain structs: cannot fail
	return names.Hash(string(data))
}

// BaselineFor returns Decide's Baseline for a Workflow whose
// status.observedTriggers is observed and whose triggers now hash to current:
// false when they are the triggers the record was kept for (every object
// missing from it is new, or newly matching, and starts a run); true when the
// triggers are watched for the first time or changed, so that the objects
// they match now were there before and are recorded without a run. The
// objects that exist when a Workflow starts watching are told from later
// ones by being in the informer's cache at its first decision, not by their
// creation timestamps, whose one-second resolution cannot order them.
func BaselineFor(observed, current string) bool {
	return observed != current
}
