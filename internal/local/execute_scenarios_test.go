package local

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/runscenario"
)

// scenarioRuntime runs a scenario's steps as the table says they end: a step
// that cannot start fails to start, the step during which the run is
// cancelled interrupts the run and ends as a killed process does (143,
// SIGTERM), and the others exit with their code.
type scenarioRuntime struct {
	sc        runscenario.Scenario
	interrupt context.CancelFunc
}

func (r *scenarioRuntime) Name() string                    { return "scenario" }
func (r *scenarioRuntime) Available(context.Context) error { return nil }
func (r *scenarioRuntime) Prepare(context.Context, RunInfo) ([]string, error) {
	return nil, nil
}
func (r *scenarioRuntime) Cleanup() error { return nil }

func (r *scenarioRuntime) RunStep(ctx context.Context, s Step, _, _ io.Writer) Exit {
	if why, ok := r.sc.CannotStart[s.Name]; ok {
		return Exit{Code: -1, Err: errors.New(why)}
	}
	if s.Name == r.sc.Cancel {
		r.interrupt()
		<-ctx.Done()
		return Exit{Code: 143, Stopped: true}
	}
	return Exit{Code: int(r.sc.Fail[s.Name])}
}

// A local run ends the run and every step of every scenario of the table
// shared with the Workplan controller (internal/runscenario) as the table
// says: phase, exit code and message.
func TestRunScenarios(t *testing.T) {
	table, err := runscenario.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range table.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			ctx, interrupt := context.WithCancel(context.Background())
			defer interrupt()
			res, err := Run(ctx, sc.Workflow(), Config{
				Runtime: &scenarioRuntime{sc: sc, interrupt: interrupt},
				Printer: NewPrinter(io.Discard, io.Discard, false, false),
				RunID:   "scenario",
			})
			if err != nil {
				t.Fatal(err)
			}
			wantRun, wantSteps := sc.Expected(runscenario.Local)
			run := kubeciv1.WorkplanFailed
			if res.Outcome == Succeeded {
				run = kubeciv1.WorkplanCompleted
			}
			if run != wantRun {
				t.Errorf("the run ended %s (%s), want %s", run, res.Outcome, wantRun)
			}
			var steps []kubeciv1.StepStatus
			for _, r := range res.Steps {
				steps = append(steps, r.Status())
			}
			if d := cmp.Diff(wantSteps, runscenario.Outcomes(steps)); d != "" {
				t.Errorf("steps (-want +got):\n%s", d)
			}
		})
	}
}
