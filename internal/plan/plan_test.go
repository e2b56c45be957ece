package plan

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/config/samples"
)

// step is a test shorthand: a valid step named name depending on deps.
func step(name string, deps ...string) kubeciv1.Step {
	return kubeciv1.Step{Name: name, Image: "busybox", Commands: []string{"true"}, Dependency: deps}
}

// shape renders tasks as "serial|parallel" name lists, one task per element.
func shape(tasks []kubeciv1.Task) []string {
	var out []string
	for _, t := range tasks {
		var s, p []string
		for _, x := range t.SerialSteps {
			s = append(s, x.Name)
		}
		for _, x := range t.ParallelSteps {
			p = append(p, x.Name)
		}
		out = append(out, strings.Join(s, ",")+"|"+strings.Join(p, ","))
	}
	return out
}

func TestPlanShapes(t *testing.T) {
	cases := []struct {
		name  string
		steps []kubeciv1.Step
		want  []string
	}{
		{"single step", []kubeciv1.Step{step("a")}, []string{"|a"}},
		{"independent steps run in parallel", []kubeciv1.Step{step("a"), step("b"), step("c")}, []string{"|a,b,c"}},
		{"chain is serial then a last parallel step", []kubeciv1.Step{step("a"), step("b", "a"), step("c", "b")}, []string{"a,b|c"}},
		{"fan out closes a task", []kubeciv1.Step{step("a"), step("b", "a"), step("c", "a"), step("d", "b", "c")}, []string{"a|b,c", "|d"}},
		{"declaration order inside a level", []kubeciv1.Step{step("z"), step("y", "z"), step("x", "z")}, []string{"z|y,x"}},
		{"declared out of order", []kubeciv1.Step{step("d", "b"), step("b", "a"), step("a")}, []string{"a,b|d"}},
		{"level is one more than the deepest dependency", []kubeciv1.Step{step("a"), step("b", "a"), step("c", "a", "b")}, []string{"a,b|c"}},
		{"two parallel levels", []kubeciv1.Step{step("a"), step("b"), step("c", "a"), step("d", "b")}, []string{"|a,b", "|c,d"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tasks, err := Plan(tc.steps)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, shape(tasks)); diff != "" {
				t.Errorf("tasks (-want +got):\n%s", diff)
			}
		})
	}
}

// loadSample reads the design doc's example Workflow from config/samples.
func loadSample(t testing.TB) *kubeciv1.Workflow {
	t.Helper()
	return samples.Workflow()
}

// The design doc's 5-step example must give exactly the two tasks of the doc's
// Workplan, field for field.
func TestPlanDesignDocExample(t *testing.T) {
	wf := loadSample(t)
	if errs := Validate(wf); len(errs) > 0 {
		t.Fatalf("the doc example must be valid:\n%s", FormatErrors(errs))
	}
	tasks, err := Plan(wf.Spec.Steps)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/doc-example.tasks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var want struct {
		Tasks []kubeciv1.Task `json:"tasks"`
	}
	if err := yaml.UnmarshalStrict(data, &want); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Tasks, tasks); diff != "" {
		t.Errorf("plan differs from the design doc's Workplan (-doc +got):\n%s", diff)
	}
}

func TestPlanRejectsInvalidSteps(t *testing.T) {
	_, err := Plan([]kubeciv1.Step{step("a", "b"), step("b", "a")})
	if err == nil || !strings.Contains(err.Error(), "dependency cycle: a -> b -> a") {
		t.Fatalf("want the cycle named, got %v", err)
	}
}

func TestSteps(t *testing.T) {
	tasks, err := Plan([]kubeciv1.Step{step("a"), step("b", "a"), step("c", "a"), step("d", "b", "c")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ts := range Steps(tasks) {
		kind := "serial"
		if ts.Parallel {
			kind = "parallel"
		}
		got = append(got, ts.Step.Name+"/"+kind+"/"+string(rune('0'+ts.Task)))
	}
	want := []string{"a/serial/0", "b/parallel/0", "c/parallel/0", "d/parallel/1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
