package local

import (
	"context"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
)

// runScenario is one row of testdata/run-scenarios.yaml.
type runScenario struct {
	Name  string `json:"name"`
	Steps []struct {
		Name string   `json:"name"`
		Deps []string `json:"deps"`
	} `json:"steps"`
	Fail map[string]int                `json:"fail"`
	Want map[string]kubeciv1.StepPhase `json:"want"`
}

// The local executor ends every step of every scenario in the phase the
// shared table says.
func TestRunScenarios(t *testing.T) {
	data, err := os.ReadFile("testdata/run-scenarios.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var scenarios []runScenario
	if err := yaml.UnmarshalStrict(data, &scenarios); err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			var steps []kubeciv1.Step
			for _, s := range sc.Steps {
				steps = append(steps, step(s.Name, s.Deps...))
			}
			tasks, err := plan.Plan(steps)
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			run := func(_ context.Context, s plan.TaskStep) StepResult {
				r := StepResult{Name: s.Step.Name, Task: s.Task, Parallel: s.Parallel, Outcome: Succeeded}
				if code, ok := sc.Fail[s.Step.Name]; ok {
					r.Outcome, r.ExitCode = Failed, &code
				}
				return r
			}
			got := map[string]kubeciv1.StepPhase{}
			for _, r := range execute(context.Background(), tasks, func(plan.TaskStep) {}, run) {
				got[r.Name] = r.Outcome.Phase()
			}
			if d := cmp.Diff(sc.Want, got); d != "" {
				t.Errorf("step phases (-want +got):\n%s", d)
			}
		})
	}
}
