package trigger

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"
)

func mustPaths(t *testing.T, texts ...string) []FieldPath {
	t.Helper()
	var out []FieldPath
	for _, s := range texts {
		p, err := ParseFieldPath(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// repo is a GitRepository at a revision ("" for none yet).
func repo(revision string, generation int64) map[string]any {
	obj := map[string]any{"metadata": map[string]any{"name": "shop", "generation": generation},
		"spec": map[string]any{"interval": "1m"}}
	if revision != "" {
		obj["status"] = map[string]any{"artifact": map[string]any{"revision": revision}}
	}
	return obj
}

func TestVersion(t *testing.T) {
	rev := mustPaths(t, "status.artifact.revision")
	if got := Version(repo("a", 1), nil, true, "1"); got != "1" {
		t.Errorf("without field paths the version is the resource generation, got %q", got)
	}
	a, b, none := Version(repo("a", 1), rev, false, "1"), Version(repo("b", 1), rev, false, "1"), Version(repo("", 1), rev, false, "1")
	if a == b || len(a) != len("f:")+16 || none != "f:-" {
		t.Errorf("field versions: a=%q b=%q none=%q", a, b, none)
	}
	if got := Version(repo("a", 7), rev, false, "7"); got != a {
		t.Errorf("a spec change (generation 7) must not change a field version: %q != %q", got, a)
	}
	if got := Version(repo("a", 1), rev, true, "1"); got != a+";1" {
		t.Errorf("a whole-object trigger adds the resource generation: %q", got)
	}
}

func TestCompare(t *testing.T) {
	const x, y, z = "1111111111111111", "2222222222222222", "3333333333333333"
	cases := []struct {
		name, prev, cur string
		changed         bool
		record          string
	}{
		{"same generation", "4", "4", false, "4"},
		{"new generation", "4", "5", true, "5"},
		{"same field value", "f:" + x, "f:" + x, false, "f:" + x},
		{"new field value", "f:" + x, "f:" + y, true, "f:" + y},
		{"absent to present", "f:-", "f:" + x, true, "f:" + x},
		{"present to absent keeps the value", "f:" + x, "f:-", false, "f:" + x},
		{"one of two fields changes", "f:" + x + "," + y, "f:" + x + "," + z, true, "f:" + x + "," + z},
		{"one field goes, the other changes", "f:" + x + "," + y, "f:-," + z, true, "f:" + x + "," + z},
		{"whole object changed, fields not", "f:" + x + ";4", "f:" + x + ";5", true, "f:" + x + ";5"},
		{"whole object same, field gone", "f:" + x + ";4", "f:-;4", false, "f:" + x + ";4"},
		{"field paths added: new starting point", "4", "f:" + x, false, "f:" + x},
		{"field paths removed: new starting point", "f:" + x, "4", false, "4"},
		{"another number of fields: new starting point", "f:" + x, "f:" + x + "," + y, false, "f:" + x + "," + y},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			changed, record := Compare(tc.prev, tc.cur)
			if changed != tc.changed || record != tc.record {
				t.Errorf("Compare(%q, %q) = %v, %q; want %v, %q", tc.prev, tc.cur, changed, record, tc.changed, tc.record)
			}
		})
	}
}

func TestFresh(t *testing.T) {
	for v, want := range map[string]bool{"4": true, "h:0123456789abcdef": true, "f:-": false, "f:-,-": false,
		"f:-,1111111111111111": true, "f:-;4": true} {
		if got := Fresh(v); got != want {
			t.Errorf("Fresh(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestDecideFieldTriggers walks a GitRepository through the life a CI
// trigger sees: created without an artifact, given revisions, churned by
// status updates that keep the revision, changed in its spec, and emptied.
func TestDecideFieldTriggers(t *testing.T) {
	rev := mustPaths(t, "status.artifact.revision")
	version := func(obj map[string]any) string { return Version(obj, rev, false, "1") }
	gitrepo := func(obj map[string]any) Object {
		return Object{UID: "r", Kind: "GitRepository", Namespace: "ns", Name: "shop", Created: t0.Add(time.Hour),
			Generation: version(obj), OnAddOrUpdate: true, Paths: rev}
	}
	steps := []struct {
		name string
		obj  map[string]any
		want []string
	}{
		{"created without an artifact: no run", repo("", 1), nil},
		{"first revision: a run", repo("main@sha1:aaa", 1), []string{"Updated r"}},
		{"status churn, same revision: nothing", repo("main@sha1:aaa", 1), nil},
		{"spec change, same revision: nothing", repo("main@sha1:aaa", 2), nil},
		{"second revision: a run", repo("main@sha1:bbb", 2), []string{"Updated r"}},
		{"artifact gone: nothing", repo("", 2), nil},
		{"the same revision again: nothing", repo("main@sha1:bbb", 2), nil},
		{"a third revision: a run", repo("main@sha1:ccc", 2), []string{"Updated r"}},
	}
	observed := map[string]string{}
	for i, st := range steps {
		in := Input{Observed: observed, Matching: []Object{gitrepo(st.obj)}}
		if i == 0 {
			in.Baseline = true
		}
		out := Decide(in)
		if diff := cmp.Diff(st.want, fires(out)); diff != "" {
			t.Fatalf("%s: fires (-want +got):\n%s", st.name, diff)
		}
		observed = out.Observed
	}

	// An object that appears with a revision already set runs once (Added).
	out := Decide(Input{Observed: map[string]string{}, Matching: []Object{gitrepo(repo("main@sha1:aaa", 1))}})
	if diff := cmp.Diff([]string{"Added r"}, fires(out)); diff != "" {
		t.Errorf("a new object with a revision (-want +got):\n%s", diff)
	}
	// ... and without one, is recorded and runs at its first revision.
	out = Decide(Input{Observed: map[string]string{}, Matching: []Object{gitrepo(repo("", 1))}})
	if len(out.Fires) != 0 || out.Observed[string(types.UID("r"))] != "f:-" {
		t.Errorf("a new object without a revision: fires %v, record %v", fires(out), out.Observed)
	}
}
