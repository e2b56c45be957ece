package dashboard

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeci/kubeci/config/samples"
	"github.com/kubeci/kubeci/internal/plan"
)

// The design doc's example: levels 0..3 as columns, one edge per dependency,
// and the planner's two tasks as boxes around the levels they pack.
func TestLayoutDAGOfTheDesignDoc(t *testing.T) {
	tasks, err := plan.Plan(samples.Workflow().Spec.Steps)
	if err != nil {
		t.Fatal(err)
	}
	d, err := layoutDAG(tasks, map[string]stepState{"step-1": {Phase: "Succeeded", Detail: "exit 0 · 1s"}, "step-2": {Phase: "Running", Detail: "3s"}, "step-3": {Phase: "Waiting"}})
	if err != nil {
		t.Fatal(err)
	}
	type node struct {
		Name     string
		Col, Row int
		Parallel bool
		Task     int
		Phase    string
		Sub      string
	}
	var got []node
	for _, n := range d.Nodes {
		got = append(got, node{n.Name, (n.X - padX) / (nodeW + colGap), (n.Y - padTop) / (nodeH + rowGap), n.Parallel, n.Task, n.Phase, n.Sub})
	}
	want := []node{
		{"step-1", 0, 0, false, 0, "Succeeded", "exit 0 · 1s"},
		{"step-2", 1, 0, true, 0, "Running", "running · 3s"},
		{"step-3", 1, 1, true, 0, "Waiting", "waiting"},
		{"step-4", 2, 0, false, 1, "", "serial"},
		{"step-5", 3, 0, true, 1, "", "parallel"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	var edges [][2]string
	for _, e := range d.Edges {
		edges = append(edges, [2]string{e.From, e.To})
	}
	wantEdges := [][2]string{{"step-1", "step-2"}, {"step-1", "step-3"}, {"step-2", "step-4"}, {"step-3", "step-4"}, {"step-1", "step-5"}, {"step-4", "step-5"}}
	if diff := cmp.Diff(wantEdges, edges); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
	if len(d.Tasks) != 2 || d.Tasks[0].X >= d.Tasks[1].X || d.Tasks[0].X+d.Tasks[0].W > d.Tasks[1].X {
		t.Errorf("want two task boxes side by side, got %+v", d.Tasks)
	}
	if d.Width != 2*padX+4*nodeW+3*colGap {
		t.Errorf("width %d for four levels", d.Width)
	}
}

func TestShorten(t *testing.T) {
	for in, want := range map[string]string{"abc": "abc", "abcdefghijklmnopqrstuvwxyz": "abcdefghijklmnopqrs…"} {
		if got := shorten(in, maxLabel); got != want {
			t.Errorf("shorten(%q) = %q, want %q", in, got, want)
		}
	}
}
