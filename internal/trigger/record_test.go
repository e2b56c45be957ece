package trigger

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func uids(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("%08d-0000-0000-0000-000000000000", i)] = "h:0123456789abcdef"
	}
	return m
}

func TestShardOfSplitsShardsInTwo(t *testing.T) {
	for uid := range uids(2000) {
		for n := 1; n < MaxShards; n *= 2 {
			if i, j := ShardOf(uid, n), ShardOf(uid, 2*n); j != i && j != i+n {
				t.Fatalf("%s: shard %d of %d went to %d of %d", uid, i, n, j, 2*n)
			}
		}
	}
}

func TestDiff(t *testing.T) {
	got := Diff(map[string]string{"same": "1", "changed": "1", "gone": "1"}, map[string]string{"same": "1", "changed": "2", "new": "1"})
	want := Changes{"changed": "2", "gone": "", "new": "1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestApplyWritesOnlyTouchedShards(t *testing.T) {
	const shards = 4
	rec := uids(40)
	loaded := map[int]map[string]string{}
	for i := range shards {
		loaded[i] = InShard(rec, i, shards)
	}
	var a, b string
	for uid := range rec {
		switch ShardOf(uid, shards) {
		case 1:
			a = uid
		case 2:
			b = uid
		}
	}
	cases := []struct {
		name    string
		changes Changes
		want    []int
	}{
		{"nothing", Changes{}, nil},
		{"an unchanged version", Changes{a: rec[a]}, nil},
		{"one change", Changes{a: "2"}, []int{1}},
		{"a removal", Changes{b: ""}, []int{2}},
		{"two shards", Changes{a: "2", b: ""}, []int{1, 2}},
		{"removing what is not there", Changes{"nope": ""}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := Apply(shards, loaded, tc.changes)
			var got []int
			for i := range shards {
				if _, ok := out[i]; ok {
					got = append(got, i)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("shards written (-want +got):\n%s", diff)
			}
			for i, entries := range out {
				want := InShard(rec, i, shards)
				for uid, v := range tc.changes {
					if ShardOf(uid, shards) != i {
						continue
					}
					if v == "" {
						delete(want, uid)
					} else {
						want[uid] = v
					}
				}
				if diff := cmp.Diff(want, entries); diff != "" {
					t.Errorf("shard %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
}

func TestOverfull(t *testing.T) {
	l := DefaultLimits
	cases := []struct {
		name    string
		shards  int
		total   int
		written map[int]map[string]string
		want    bool
	}{
		{"a small record stays in the status", 0, InlineMax, nil, false},
		{"a larger one moves to shards", 0, InlineMax + 1, nil, true},
		{"shards within bounds", 4, 4 * ShardMax, map[int]map[string]string{1: uids(ShardMax)}, false},
		{"a shard past its bound", 4, 100, map[int]map[string]string{1: uids(ShardMax + 1)}, true},
	}
	for _, tc := range cases {
		if got := l.Overfull(tc.shards, tc.total, tc.written); got != tc.want {
			t.Errorf("%s: Overfull = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestGrow(t *testing.T) {
	small := Limits{Inline: 2, Shard: 4, Shards: 4}
	cases := []struct {
		limits              Limits
		shards, total, want int
	}{
		{DefaultLimits, 0, InlineMax + 1, 1},
		{DefaultLimits, 0, 1000, 4},
		{DefaultLimits, 0, 100_000, 512},
		{DefaultLimits, 4, 1100, 8},
		{DefaultLimits, 512, 100_000, 1024},
		{DefaultLimits, 0, MaxObjects, MaxShards},
		{small, 0, 3, 2},
		{small, 2, 5, 4},
		{small, 0, 8, 4},
	}
	for _, tc := range cases {
		got, msg := tc.limits.Grow(tc.shards, tc.total)
		if got != tc.want || msg != "" {
			t.Errorf("%+v.Grow(%d, %d) = %d %q, want %d", tc.limits, tc.shards, tc.total, got, msg, tc.want)
		}
	}
	refusals := []struct {
		limits        Limits
		shards, total int
		want          string
	}{
		{DefaultLimits, 0, MaxObjects + 1, "match 512001 objects, more than the 512000"},
		{DefaultLimits, MaxShards, 1000, "more than the 512000"},
		{small, 0, 9, "match 9 objects, more than the 8 a Workflow's record of acted-on changes may hold (4 shards of 4 entries"},
	}
	for _, tc := range refusals {
		n, msg := tc.limits.Grow(tc.shards, tc.total)
		if n != 0 || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "narrowed") {
			t.Errorf("%+v.Grow(%d, %d) = %d %q, want a refusal with %q", tc.limits, tc.shards, tc.total, n, msg, tc.want)
		}
	}
}

func TestLimitsValidate(t *testing.T) {
	for _, l := range []Limits{DefaultLimits, {Inline: 1, Shard: 2, Shards: 1}} {
		if err := l.Validate(); err != nil {
			t.Errorf("%+v: %v", l, err)
		}
	}
	for _, l := range []Limits{{}, {Inline: 1, Shard: 2, Shards: 3}, {Inline: 1, Shard: 1, Shards: 2}} {
		if err := l.Validate(); err == nil || !strings.Contains(err.Error(), "power of two") {
			t.Errorf("%+v: want an error, got %v", l, err)
		}
	}
}

// A split keeps the record readable under the old count until the new one is
// recorded, and reads the same under the new count.
func TestSplitReadsTheSameUnderBothCounts(t *testing.T) {
	rec := uids(3000)
	for _, tc := range []struct{ from, to int }{{0, 4}, {4, 8}, {4, 32}} {
		written := Split(rec, tc.from, tc.to)
		if len(written) != tc.to {
			t.Fatalf("%d -> %d: %d shards written, want %d", tc.from, tc.to, len(written), tc.to)
		}
		for _, n := range []int{tc.from, tc.to} {
			if n == 0 {
				continue
			}
			got := map[string]string{}
			for i := range n {
				for uid, v := range InShard(written[i], i, n) {
					got[uid] = v
				}
			}
			if diff := cmp.Diff(rec, got); diff != "" {
				t.Errorf("%d -> %d, read under %d (-want +got):\n%s", tc.from, tc.to, n, diff)
			}
		}
	}
}
