package trigger

import (
	"fmt"
	"hash/fnv"
	"maps"
)

// A Workflow's record of acted-on changes maps object UIDs to the versions
// last acted on. While small it is kept whole in the Workflow's status
// (lastObservedResourceGeneration); past InlineMax entries it is split over
// shards (TriggerRecord objects), each holding the UIDs that hash to it, so
// that a change is recorded by rewriting one small shard whatever the number
// of watched objects.
//
// The bounds keep every write of a decision small: the API server rewrites
// (decodes, validates, encodes and stores) the whole object a write changes,
// and the Workflow is read by everyone, so it holds at most InlineMax entries
// (about 6 KiB), and a shard at most ShardMax (about 30 KiB; a split leaves
// them half full).
const (
	// InlineMax is the most entries kept in the Workflow's status.
	InlineMax = 100
	// ShardMax is the most entries a shard holds before the record is split
	// over twice as many shards.
	ShardMax = 500
	// MaxShards bounds the number of shards of one Workflow.
	MaxShards = 2048
	// MaxObjects is the most objects one Workflow's triggers may match: a
	// split leaves shards half full.
	MaxObjects = MaxShards * ShardMax / 2
)

// Limits are the bounds of a record: Inline entries in the status, Shard
// entries in a shard, Shards shards. DefaultLimits are the real ones; tests
// use smaller ones to reach them cheaply.
type Limits struct {
	Inline, Shard, Shards int
}

// DefaultLimits are InlineMax, ShardMax and MaxShards.
var DefaultLimits = Limits{Inline: InlineMax, Shard: ShardMax, Shards: MaxShards}

// MaxObjects is the most objects a record within l may hold.
func (l Limits) MaxObjects() int { return l.Shards * l.Shard / 2 }

// Validate says what is wrong with l: Shards must be a power of two, the
// others positive.
func (l Limits) Validate() error {
	if l.Inline < 1 || l.Shard < 2 || l.Shards < 1 || l.Shards&(l.Shards-1) != 0 {
		return fmt.Errorf("record limits %+v: want Inline >= 1, Shard >= 2 and Shards a power of two", l)
	}
	return nil
}

// ShardOf is the shard, of shards (a power of two), that holds uid: the low
// bits of its FNV-1a hash, so that doubling the shards moves the entries of
// shard i only to shard i+shards.
func ShardOf(uid string, shards int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(uid))
	return int(h.Sum32() & uint32(shards-1))
}

// InShard returns the entries of a shard as read, without those that do not
// belong to shard i of shards (a split left them there).
func InShard(entries map[string]string, i, shards int) map[string]string {
	out := make(map[string]string, len(entries))
	for uid, v := range entries {
		if ShardOf(uid, shards) == i {
			out[uid] = v
		}
	}
	return out
}

// Changes are entries to record: a UID with a version, or "" to remove it.
type Changes map[string]string

// Diff returns the changes that turn record old into new.
func Diff(old, new map[string]string) Changes {
	c := Changes{}
	for uid, v := range new {
		if old[uid] != v {
			c[uid] = v
		}
	}
	for uid := range old {
		if _, ok := new[uid]; !ok {
			c[uid] = ""
		}
	}
	return c
}

// Apply returns the new entries of each shard c touches: shards (of
// shards) holds the entries as read of at least those shards, already
// restricted with InShard. Shards whose entries do not change are left out,
// so only the returned ones need writing.
func Apply(shards int, loaded map[int]map[string]string, c Changes) map[int]map[string]string {
	out := map[int]map[string]string{}
	for uid, v := range c {
		i := ShardOf(uid, shards)
		cur, ok := out[i]
		if !ok {
			cur = maps.Clone(loaded[i])
			if cur == nil {
				cur = map[string]string{}
			}
		}
		if v == "" {
			delete(cur, uid)
		} else {
			cur[uid] = v
		}
		out[i] = cur
	}
	for i, entries := range out {
		if maps.Equal(entries, loaded[i]) {
			delete(out, i)
		}
	}
	return out
}

// Overfull reports whether a record of shards (zero: kept in the status)
// whose touched shards would hold written entries must grow, total being the
// record's number of entries when kept in the status.
func (l Limits) Overfull(shards, total int, written map[int]map[string]string) bool {
	if shards == 0 {
		return total > l.Inline
	}
	for _, entries := range written {
		if len(entries) > l.Shard {
			return true
		}
	}
	return false
}

// Grow returns the shard count for a record of total entries now kept in
// shards (zero: in the status), at least twice as many and enough for every
// shard to be at most half full, or a message saying why it cannot grow.
func (l Limits) Grow(shards, total int) (int, string) {
	n := max(1, 2*shards)
	for n*l.Shard/2 < total && n < l.Shards {
		n *= 2
	}
	if n > l.Shards || total > l.MaxObjects() {
		return 0, fmt.Sprintf("the triggers match %d objects, more than the %d a Workflow's record of acted-on changes may hold "+
			"(%d shards of %d entries, kept half full): nothing runs until the triggers are narrowed with name, "+
			"namespace or a selector that requires a label value", total, l.MaxObjects(), l.Shards, l.Shard)
	}
	return n, ""
}

// Split returns the shards to write to move record, kept in from shards (zero:
// in the status), to to shards. The shards below from keep the entries they
// hold under from, so that until the new count is recorded the record reads
// the same (a crash mid-split is redone from it); under to, their entries
// that moved are ignored on read and dropped at their next write.
func Split(record map[string]string, from, to int) map[int]map[string]string {
	out := make(map[int]map[string]string, to)
	for i := range to {
		out[i] = map[string]string{}
	}
	for uid, v := range record {
		if from > 0 {
			out[ShardOf(uid, from)][uid] = v
		}
		if i := ShardOf(uid, to); i >= from {
			out[i][uid] = v
		}
	}
	return out
}
