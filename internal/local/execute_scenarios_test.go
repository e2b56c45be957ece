package local

import (
	"context"
	"errors"
	"io"
	"testing"

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
	runscenario.Each(t, runscenario.Local, func(t *testing.T, sc runscenario.Scenario) (kubeciv1.WorkplanPhase, string, []kubeciv1.StepStatus) {
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
		run := kubeciv1.WorkplanFailed
		if res.Outcome == Succeeded {
			run = kubeciv1.WorkplanCompleted
		}
		var steps []kubeciv1.StepStatus
		for _, r := range res.Steps {
			steps = append(steps, r.Status())
		}
		return run, string(res.Outcome), steps
	})
}
