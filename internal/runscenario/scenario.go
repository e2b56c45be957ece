// Package runscenario holds the table of how runs go that both executors of
// Kube CI must agree with, the local run (internal/local) and the Workplan
// controller (internal/controller/workplan), and plays it in their tests
// (Each). Only tests import it.
// The table, testdata/run-scenarios.yaml, lists for each scenario the steps,
// how they end (exit codes, a step that cannot start, a run cancelled while a
// step runs) and how the run and every step end, in the API's vocabulary. Where
// the two executors knowingly differ, the scenario says so for the step, with
// a reason named in the table's list of differences; any other difference
// fails a test.
package runscenario

import (
	_ "embed"
	"fmt"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

//go:embed testdata/run-scenarios.yaml
var table []byte

// Table is the scenario table.
type Table struct {
	// Differences are the known differences between the executors, by name,
	// each with its reason.
	Differences map[string]string `json:"differences"`
	// Scenarios are the runs both executors must agree on.
	Scenarios []Scenario `json:"scenarios"`
}

// Scenario is one run.
type Scenario struct {
	Name string `json:"name"`
	// Steps are the Workflow's steps, planned as the operator plans them.
	Steps []Step `json:"steps"`
	// Fail are the steps that exit non-zero, with their exit code; the other
	// steps that run exit 0.
	Fail map[string]int32 `json:"fail,omitempty"`
	// CannotStart are the steps whose process or container cannot start, with
	// why (the runtime's error, the kubelet's waiting message).
	CannotStart map[string]string `json:"cannotStart,omitempty"`
	// Cancel is the step during which the run is cancelled (locally
	// interrupted, on a cluster spec.cancelled set); it runs until stopped.
	Cancel string `json:"cancel,omitempty"`
	// Run is the run's phase at its end: Completed or Failed.
	Run kubeciv1.WorkplanPhase `json:"run"`
	// Want is every step's phase at the run's end.
	Want map[string]kubeciv1.StepPhase `json:"want"`
	// Messages are the messages steps end with on both sides; the others end
	// with none.
	Messages map[string]string `json:"messages,omitempty"`
	// Differences are where the executors knowingly end a step differently.
	Differences []Difference `json:"differences,omitempty"`
}

// Step is a step of a scenario's Workflow.
type Step struct {
	Name string   `json:"name"`
	Deps []string `json:"deps,omitempty"`
}

// Difference says how one step ends on each side where they differ, and why.
type Difference struct {
	Step string `json:"step"`
	// Why names an entry of Table.Differences.
	Why     string `json:"why"`
	Local   Ending `json:"local"`
	Cluster Ending `json:"cluster"`
}

// Ending overrides what a step ends with on one side; empty fields override
// nothing.
type Ending struct {
	// Message, when set, is the step's message ("-" for none).
	Message string `json:"message,omitempty"`
	// ExitCode, when set, is the step's exit code ("none" for none).
	ExitCode string `json:"exitCode,omitempty"`
}

// Side is one of the two executors.
type Side string

const (
	Local   Side = "local"
	Cluster Side = "cluster"
)

// Outcome is how a step ends, in the API's vocabulary (a Workplan's
// status.steps[]).
type Outcome struct {
	Phase    kubeciv1.StepPhase
	ExitCode *int32
	Message  string
}

// Each runs play, as a subtest of t, for every scenario of the table, and
// checks how it ended on side: the run's phase (and, to show on failure, why)
// and its steps' statuses in the API's vocabulary.
func Each(t *testing.T, side Side, play func(t *testing.T, sc Scenario) (kubeciv1.WorkplanPhase, string, []kubeciv1.StepStatus)) {
	t.Helper()
	table, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range table.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			run, why, steps := play(t, sc)
			wantRun, wantSteps := sc.Expected(side)
			if run != wantRun {
				t.Errorf("the run ended %s (%s), want %s", run, why, wantRun)
			}
			if d := cmp.Diff(wantSteps, outcomes(steps)); d != "" {
				t.Errorf("steps (-want +got):\n%s", d)
			}
		})
	}
}

// outcomes are the outcomes of steps, by name.
func outcomes(steps []kubeciv1.StepStatus) map[string]Outcome {
	out := make(map[string]Outcome, len(steps))
	for _, s := range steps {
		out[s.Name] = Outcome{Phase: s.Phase, ExitCode: s.ExitCode, Message: s.Message}
	}
	return out
}

// Load reads the table and checks it: every step has a wanted phase, every
// name a scenario uses is one of its steps, every difference names a reason.
func Load() (*Table, error) {
	t := &Table{}
	if err := yaml.UnmarshalStrict(table, t); err != nil {
		return nil, fmt.Errorf("testdata/run-scenarios.yaml: %w", err)
	}
	var errs field.ErrorList
	for i, sc := range t.Scenarios {
		errs = append(errs, t.check(field.NewPath("scenarios").Index(i), sc)...)
	}
	if err := errs.ToAggregate(); err != nil {
		return nil, fmt.Errorf("testdata/run-scenarios.yaml: %w", err)
	}
	return t, nil
}

func (t *Table) check(path *field.Path, sc Scenario) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for _, s := range sc.Steps {
		names[s.Name] = true
		if _, ok := sc.Want[s.Name]; !ok {
			errs = append(errs, field.Required(path.Child("want").Key(s.Name), "every step needs its phase"))
		}
	}
	known := func(p *field.Path, name string) {
		if !names[name] {
			errs = append(errs, field.NotFound(p, name))
		}
	}
	for name := range sc.Want {
		known(path.Child("want").Key(name), name)
	}
	for name := range sc.Fail {
		known(path.Child("fail").Key(name), name)
	}
	for name := range sc.CannotStart {
		known(path.Child("cannotStart").Key(name), name)
	}
	for name := range sc.Messages {
		known(path.Child("messages").Key(name), name)
	}
	if sc.Cancel != "" {
		known(path.Child("cancel"), sc.Cancel)
	}
	if sc.Run != kubeciv1.WorkplanCompleted && sc.Run != kubeciv1.WorkplanFailed {
		errs = append(errs, field.NotSupported(path.Child("run"), sc.Run, []kubeciv1.WorkplanPhase{kubeciv1.WorkplanCompleted, kubeciv1.WorkplanFailed}))
	}
	for j, d := range sc.Differences {
		p := path.Child("differences").Index(j)
		known(p.Child("step"), d.Step)
		if _, ok := t.Differences[d.Why]; !ok {
			errs = append(errs, field.NotFound(p.Child("why"), d.Why))
		}
		for _, e := range []struct {
			side Side
			Ending
		}{{Local, d.Local}, {Cluster, d.Cluster}} {
			if _, err := exitCode(e.ExitCode); err != nil {
				errs = append(errs, field.Invalid(p.Child(string(e.side), "exitCode"), e.ExitCode, err.Error()))
			}
		}
	}
	return errs
}

// Expected is how the run and each of its steps end on side.
func (sc Scenario) Expected(side Side) (kubeciv1.WorkplanPhase, map[string]Outcome) {
	steps := map[string]Outcome{}
	for _, s := range sc.Steps {
		o := Outcome{Phase: sc.Want[s.Name], Message: sc.Messages[s.Name]}
		_, cannotStart := sc.CannotStart[s.Name]
		if o.Phase != kubeciv1.StepSkipped && !cannotStart && s.Name != sc.Cancel {
			code := sc.Fail[s.Name]
			o.ExitCode = &code
		}
		steps[s.Name] = o
	}
	for _, d := range sc.Differences {
		e := d.Cluster
		if side == Local {
			e = d.Local
		}
		o := steps[d.Step]
		switch e.Message {
		case "":
		case "-":
			o.Message = ""
		default:
			o.Message = e.Message
		}
		if e.ExitCode != "" {
			o.ExitCode, _ = exitCode(e.ExitCode)
		}
		steps[d.Step] = o
	}
	return sc.Run, steps
}

// Workflow is the scenario's Workflow, named "scenario" in namespace
// "default": its steps run busybox's true, the executors' tests deciding how
// they end.
func (sc Scenario) Workflow() *kubeciv1.Workflow {
	wf := &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{Name: "scenario", Namespace: "default", UID: "scenario-uid"}}
	for _, s := range sc.Steps {
		wf.Spec.Steps = append(wf.Spec.Steps, kubeciv1.Step{Name: s.Name, Image: "busybox", Commands: []string{"true"}, Dependency: s.Deps})
	}
	return wf
}

// exitCode parses an Ending's exit code: "none" is nil.
func exitCode(s string) (*int32, error) {
	if s == "" || s == "none" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return nil, fmt.Errorf(`an exit code is a number or "none"`)
	}
	code := int32(n)
	return &code, nil
}
