package trigger

import (
	"maps"

	"k8s.io/apimachinery/pkg/types"
)

// DecideChanged is Decide for the objects whose UIDs are in changed only: the
// objects a Workflow was told of since its last decision. It looks at nothing
// else, so its cost is that of the change, not of the objects the Workflow
// watches. in.Observed may hold more entries than those of changed (the
// shards they are in) and in.Matching must hold those of changed that match
// now; in.Baseline must be false (a baseline looks at every object).
//
// The Output's Observed holds the new entries of changed objects only; the
// Changes say what to record for each of them: its new version, or "" when it
// is no longer recorded (deleted, or stopped matching).
func DecideChanged(in Input, changed map[types.UID]bool) (Output, Changes) {
	sub := in
	sub.Observed = make(map[string]string, len(changed))
	for uid := range changed {
		if v, ok := in.Observed[string(uid)]; ok {
			sub.Observed[string(uid)] = v
		}
	}
	sub.Matching = nil
	for _, obj := range in.Matching {
		if changed[obj.UID] {
			sub.Matching = append(sub.Matching, obj)
		}
	}
	out := Decide(sub)
	c := make(Changes, len(changed))
	for uid := range changed {
		c[string(uid)] = out.Observed[string(uid)]
	}
	return out, c
}

// To returns record with c applied, record itself left as it is.
func (c Changes) To(record map[string]string) map[string]string {
	out := maps.Clone(record)
	if out == nil {
		out = map[string]string{}
	}
	for uid, v := range c {
		if v == "" {
			delete(out, uid)
		} else {
			out[uid] = v
		}
	}
	return out
}
