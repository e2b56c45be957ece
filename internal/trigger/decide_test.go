package trigger

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func obj(uid, gen string, created time.Duration) Object {
	return Object{UID: types.UID(uid), Kind: "ConfigMap", Namespace: "ns", Name: "cm-" + uid,
		Generation: gen, Created: t0.Add(created), OnAddOrUpdate: true, OnDelete: true}
}

// fires renders the decision as "Event uid" strings.
func fires(out Output) []string {
	var s []string
	for _, f := range out.Fires {
		s = append(s, string(f.Event)+" "+string(f.Object.UID))
	}
	return s
}

func TestDecide(t *testing.T) {
	noAdd := obj("a", "2", 0)
	noAdd.OnAddOrUpdate = false
	cases := []struct {
		name      string
		in        Input
		want      []string
		observed  map[string]string
		unchanged int
	}{
		{name: "unchanged objects start nothing (restart, resync, relist)",
			in:       Input{Observed: map[string]string{"a": "1", "b": "h:x"}, Matching: []Object{obj("a", "1", 0), obj("b", "h:x", 0)}},
			observed: map[string]string{"a": "1", "b": "h:x"}, unchanged: 2},
		{name: "a new object fires Added",
			in:   Input{Observed: map[string]string{}, Matching: []Object{obj("a", "1", 0)}},
			want: []string{"Added a"}, observed: map[string]string{"a": "1"}},
		{name: "a changed object fires Updated",
			in:   Input{Observed: map[string]string{"a": "1"}, Matching: []Object{obj("a", "2", 0)}},
			want: []string{"Updated a"}, observed: map[string]string{"a": "2"}},
		{name: "onAddOrUpdate off records without firing",
			in:       Input{Observed: map[string]string{"a": "1"}, Matching: []Object{noAdd}},
			observed: map[string]string{"a": "2"}},
		{name: "a deleted object fires Deleted with its last state and is pruned",
			in: Input{Observed: map[string]string{"a": "1", "b": "1"}, Matching: []Object{obj("b", "1", 0)},
				Gone: map[types.UID]Object{"a": obj("a", "1", 0)}},
			want: []string{"Deleted a"}, observed: map[string]string{"b": "1"}, unchanged: 1},
		{name: "deleted while down fires from the fallback",
			in: Input{Observed: map[string]string{"a": "1"},
				DeletedFallback: Object{Kind: "ConfigMap", OnDelete: true}},
			want: []string{"Deleted a"}, observed: map[string]string{}},
		{name: "onDelete off prunes without firing",
			in:       Input{Observed: map[string]string{"a": "1"}, DeletedFallback: Object{OnDelete: false}},
			observed: map[string]string{}},
		{name: "an object that stopped matching is forgotten without a run",
			in:       Input{Observed: map[string]string{"a": "1"}, Unmatched: map[types.UID]bool{"a": true}},
			observed: map[string]string{}},
		{name: "baseline: every object there at the first look is recorded without a run, whenever it was created",
			in: Input{Observed: map[string]string{}, Baseline: true,
				Matching: []Object{obj("old", "1", 0), obj("new", "1", 2*time.Hour), obj("same-second", "1", time.Hour)}},
			observed: map[string]string{"old": "1", "new": "1", "same-second": "1"}},
		{name: "baseline: recorded objects are still compared",
			in:   Input{Observed: map[string]string{"a": "1"}, Baseline: true, Matching: []Object{obj("a", "2", 0), obj("b", "1", 0)}},
			want: []string{"Updated a"}, observed: map[string]string{"a": "2", "b": "1"}},
		{name: "baseline: recorded objects that no longer match are forgotten, not deleted",
			in:       Input{Observed: map[string]string{"a": "1"}, Baseline: true, DeletedFallback: Object{OnDelete: true}},
			observed: map[string]string{}},
		{name: "fires are ordered by age, then name",
			in:   Input{Observed: map[string]string{}, Matching: []Object{obj("c", "1", 2), obj("b", "1", 1), obj("a", "1", 1)}},
			want: []string{"Added a", "Added b", "Added c"}, observed: map[string]string{"a": "1", "b": "1", "c": "1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := Decide(tc.in)
			if diff := cmp.Diff(tc.want, fires(out)); diff != "" {
				t.Errorf("fires (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.observed, out.Observed); diff != "" {
				t.Errorf("observed (-want +got):\n%s", diff)
			}
			if out.Unchanged != tc.unchanged {
				t.Errorf("unchanged = %d, want %d", out.Unchanged, tc.unchanged)
			}
		})
	}
}

func TestDecideKeepsDeletedObjectDetails(t *testing.T) {
	gone := obj("a", "", 0)
	out := Decide(Input{Observed: map[string]string{"a": "1"}, Gone: map[types.UID]Object{"a": gone}})
	gone.Generation = "1" // the generation last acted on
	if len(out.Fires) != 1 || !cmp.Equal(out.Fires[0].Object, gone, cmp.AllowUnexported(FieldPath{}, segment{})) || out.Fires[0].Event != kubeciv1.EventDeleted {
		t.Fatalf("want one Deleted fire carrying the object's last state, got %+v", out.Fires)
	}
}

func TestBaselineFor(t *testing.T) {
	if BaselineFor("h1", "h1") {
		t.Error("same triggers: want no baseline")
	}
	if !BaselineFor("", "h1") {
		t.Error("first watch: want a baseline")
	}
	if !BaselineFor("h0", "h1") {
		t.Error("changed triggers: want a baseline")
	}
}
