package trigger

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
)

func TestDecideChanged(t *testing.T) {
	set := func(uids ...string) map[types.UID]bool {
		m := map[types.UID]bool{}
		for _, u := range uids {
			m[types.UID(u)] = true
		}
		return m
	}
	cases := []struct {
		name      string
		in        Input
		changed   map[types.UID]bool
		want      []string
		changes   Changes
		unchanged int
	}{
		{name: "only the changed object is looked at",
			in: Input{Observed: map[string]string{"a": "1", "b": "1", "c": "1"},
				Matching: []Object{obj("a", "2", 0), obj("b", "2", 0)}},
			changed: set("a"), want: []string{"Updated a"}, changes: Changes{"a": "2"}},
		{name: "an event that changed nothing fires nothing",
			in:      Input{Observed: map[string]string{"a": "1"}, Matching: []Object{obj("a", "1", 0)}},
			changed: set("a"), changes: Changes{"a": "1"}, unchanged: 1},
		{name: "a new object fires Added",
			in:      Input{Observed: map[string]string{"b": "1"}, Matching: []Object{obj("a", "1", 0)}},
			changed: set("a"), want: []string{"Added a"}, changes: Changes{"a": "1"}},
		{name: "a deleted object fires Deleted and is removed; the unchanged ones are not taken for deleted",
			in:      Input{Observed: map[string]string{"a": "1", "b": "1"}, Gone: map[types.UID]Object{"a": obj("a", "", 0)}},
			changed: set("a"), want: []string{"Deleted a"}, changes: Changes{"a": ""}},
		{name: "an object that stopped matching is removed without a run",
			in:      Input{Observed: map[string]string{"a": "1"}, Unmatched: map[types.UID]bool{"a": true}},
			changed: set("a"), changes: Changes{"a": ""}},
		{name: "an object that matched nothing and still does is not recorded",
			in:      Input{Observed: map[string]string{"b": "1"}, Unmatched: map[types.UID]bool{"a": true}},
			changed: set("a"), changes: Changes{"a": ""}},
		{name: "several changes at once",
			in: Input{Observed: map[string]string{"a": "1", "b": "1", "c": "1"}, Matching: []Object{obj("a", "2", 0), obj("d", "1", 1)},
				DeletedFallback: Object{Kind: "ConfigMap", OnDelete: true}},
			changed: set("a", "c", "d"), want: []string{"Updated a", "Added d", "Deleted c"},
			changes: Changes{"a": "2", "c": "", "d": "1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, changes := DecideChanged(tc.in, tc.changed)
			if diff := cmp.Diff(tc.want, fires(out)); diff != "" {
				t.Errorf("fires (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.changes, changes); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if out.Unchanged != tc.unchanged {
				t.Errorf("unchanged = %d, want %d", out.Unchanged, tc.unchanged)
			}
		})
	}
}

func TestChangesTo(t *testing.T) {
	rec := map[string]string{"a": "1", "b": "1"}
	got := Changes{"a": "2", "b": "", "c": "1"}.To(rec)
	if diff := cmp.Diff(map[string]string{"a": "2", "c": "1"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if rec["b"] != "1" || len(rec) != 2 {
		t.Errorf("the record read was modified: %v", rec)
	}
}
