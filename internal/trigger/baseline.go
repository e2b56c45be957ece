package trigger

import (
	"encoding/json"
	"time"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
)

// TriggersHash identifies a list of triggers (status.observedTriggers).
func TriggersHash(triggers []kubeciv1.Trigger) string {
	data, _ := json.Marshal(triggers) // plain structs: cannot fail
	return names.Hash(string(data))
}

// BaselineFor returns Decide's Baseline for a Workflow created at created whose
// status.observedTriggers is observed and whose triggers now hash to current:
//
//   - nil when they are the triggers the record was kept for: every object
//     missing from it is new (or newly matching) and starts a run;
//   - the Workflow's creation time when nothing was ever watched: a new
//     Workflow does not fire for objects that existed before it, but does for
//     objects created after it, however late its watch started;
//   - now when the triggers changed: objects that already exist are recorded
//     without a run.
func BaselineFor(observed, current string, created, now time.Time) *time.Time {
	switch observed {
	case current:
		return nil
	case "":
		return &created
	default:
		return &now
	}
}
