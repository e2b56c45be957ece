package runscenario

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// A table that names a step it does not have, a reason it does not list, or
// an exit code that is not one is refused, saying where.
func TestCheck(t *testing.T) {
	table := &Table{Differences: map[string]string{"known": "because"}}
	sc := Scenario{
		Name:  "bad",
		Steps: []Step{{Name: "a"}, {Name: "b"}},
		Fail:  map[string]int32{"c": 1},
		Run:   "Done",
		Want:  map[string]kubeciv1.StepPhase{"a": kubeciv1.StepSucceeded},
		Differences: []Difference{
			{Step: "a", Why: "unknown"},
			{Step: "a", Why: "known", Local: Ending{ExitCode: "lots"}},
		},
	}
	var got []string
	for _, err := range table.check(nil, sc) {
		got = append(got, err.Field)
	}
	want := []string{"want[b]", "fail[c]", "run", "differences[0].why", "differences[1].local.exitCode"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("fields (-want +got):\n%s", d)
	}
}

// What each side expects: the table's phases, exit codes for the steps that
// ran to their end, and each side's own ending where the table records a
// difference.
func TestExpected(t *testing.T) {
	sc := Scenario{
		Steps:       []Step{{Name: "ok"}, {Name: "bad"}, {Name: "stuck"}, {Name: "later"}},
		Fail:        map[string]int32{"bad": 2},
		CannotStart: map[string]string{"stuck": "no image"},
		Run:         kubeciv1.WorkplanFailed,
		Want: map[string]kubeciv1.StepPhase{"ok": kubeciv1.StepSucceeded, "bad": kubeciv1.StepFailed,
			"stuck": kubeciv1.StepFailed, "later": kubeciv1.StepSkipped},
		Messages:    map[string]string{"stuck": "no image"},
		Differences: []Difference{{Step: "stuck", Why: "x", Cluster: Ending{Message: "-", ExitCode: "7"}}},
	}
	_, local := sc.Expected(Local)
	_, cluster := sc.Expected(Cluster)
	want := map[string]Outcome{
		"ok":    {Phase: kubeciv1.StepSucceeded, ExitCode: ptr.To[int32](0)},
		"bad":   {Phase: kubeciv1.StepFailed, ExitCode: ptr.To[int32](2)},
		"stuck": {Phase: kubeciv1.StepFailed, Message: "no image"},
		"later": {Phase: kubeciv1.StepSkipped},
	}
	if d := cmp.Diff(want, local); d != "" {
		t.Errorf("local (-want +got):\n%s", d)
	}
	want["stuck"] = Outcome{Phase: kubeciv1.StepFailed, ExitCode: ptr.To[int32](7)}
	if d := cmp.Diff(want, cluster); d != "" {
		t.Errorf("cluster (-want +got):\n%s", d)
	}
}

// The table itself loads.
func TestLoad(t *testing.T) {
	table, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(table.Scenarios) == 0 || !strings.Contains(table.Differences["skipped-message"], "skipped step") {
		t.Errorf("the table has %d scenarios and differences %v", len(table.Scenarios), table.Differences)
	}
}
