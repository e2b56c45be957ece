package local

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
)

// step is a test shorthand: a step named name depending on deps.
func step(name string, deps ...string) kubeciv1.Step {
	return kubeciv1.Step{Name: name, Image: "busybox", Commands: []string{"true"}, Dependency: deps}
}

// docSteps are the design doc's example: tasks "step-1 | step-2, step-3" and
// "step-4 | step-5".
var docSteps = []kubeciv1.Step{
	step("step-1"), step("step-2", "step-1"), step("step-3", "step-1"),
	step("step-4", "step-2", "step-3"), step("step-5", "step-1", "step-4"),
}

// recorder is a stepFunc that records what ran, and fails the steps in fail.
type recorder struct {
	fail map[string]bool

	mu     sync.Mutex
	starts []string
	runs   []string
}

func (r *recorder) starting(s plan.TaskStep) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starts = append(r.starts, s.Step.Name)
}

func (r *recorder) run(_ context.Context, s plan.TaskStep) StepResult {
	r.mu.Lock()
	r.runs = append(r.runs, s.Step.Name)
	r.mu.Unlock()
	res := StepResult{Name: s.Step.Name, Task: s.Task, Parallel: s.Parallel, Outcome: Succeeded}
	if r.fail[s.Step.Name] {
		res.Outcome = Failed
	}
	return res
}

// brief renders results as "name outcome[: message]".
func brief(results []StepResult) []string {
	var out []string
	for _, r := range results {
		s := fmt.Sprintf("%s %s", r.Name, r.Outcome)
		if r.Outcome == Skipped {
			s += ": " + r.Message
		}
		out = append(out, s)
	}
	return out
}

func mustPlan(t *testing.T, steps []kubeciv1.Step) []kubeciv1.Task {
	t.Helper()
	tasks, err := plan.Plan(steps)
	if err != nil {
		t.Fatal(err)
	}
	return tasks
}

func TestExecuteOrder(t *testing.T) {
	chain := []kubeciv1.Step{step("a"), step("b", "a"), step("c", "b"), step("d", "c")} // a,b,c | d
	cases := []struct {
		name     string
		steps    []kubeciv1.Step
		fail     []string
		wantRuns []string // the steps started, in plan order
		want     []string
	}{{
		name:     "every step succeeds: serial steps, then parallel ones, task after task",
		steps:    docSteps,
		wantRuns: []string{"step-1", "step-2", "step-3", "step-4", "step-5"},
		want:     []string{"step-1 Succeeded", "step-2 Succeeded", "step-3 Succeeded", "step-4 Succeeded", "step-5 Succeeded"},
	}, {
		name:     "a failing serial step ends its task and the run",
		steps:    chain,
		fail:     []string{"b"},
		wantRuns: []string{"a", "b"},
		want: []string{"a Succeeded", "b Failed",
			"c Skipped: not started: step b did not succeed", "d Skipped: not started: step b did not succeed"},
	}, {
		name:     "a failing parallel step lets its siblings finish; no later task starts",
		steps:    docSteps,
		fail:     []string{"step-2"},
		wantRuns: []string{"step-1", "step-2", "step-3"},
		want: []string{"step-1 Succeeded", "step-2 Failed", "step-3 Succeeded",
			"step-4 Skipped: not started: step step-2 did not succeed", "step-5 Skipped: not started: step step-2 did not succeed"},
	}, {
		name:     "the first serial step failing skips everything",
		steps:    docSteps,
		fail:     []string{"step-1"},
		wantRuns: []string{"step-1"},
		want: []string{"step-1 Failed",
			"step-2 Skipped: not started: step step-1 did not succeed", "step-3 Skipped: not started: step step-1 did not succeed",
			"step-4 Skipped: not started: step step-1 did not succeed", "step-5 Skipped: not started: step step-1 did not succeed"},
	}, {
		name:     "a failing last step",
		steps:    docSteps,
		fail:     []string{"step-5"},
		wantRuns: []string{"step-1", "step-2", "step-3", "step-4", "step-5"},
		want:     []string{"step-1 Succeeded", "step-2 Succeeded", "step-3 Succeeded", "step-4 Succeeded", "step-5 Failed"},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{fail: map[string]bool{}}
			for _, f := range tc.fail {
				r.fail[f] = true
			}
			results := execute(context.Background(), mustPlan(t, tc.steps), r.starting, r.run)
			if diff := cmp.Diff(tc.want, brief(results)); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
			// Parallel steps may run in any order; starting is called in plan order.
			if diff := cmp.Diff(tc.wantRuns, r.starts); diff != "" {
				t.Errorf("steps started (-want +got):\n%s", diff)
			}
			if len(r.runs) != len(tc.wantRuns) {
				t.Errorf("ran %v, want the steps %v", r.runs, tc.wantRuns)
			}
		})
	}
}

// Serial steps run one at a time and in order; parallel steps all run at once:
// each waits, with a bound, until every sibling has started.
func TestExecuteConcurrency(t *testing.T) {
	steps := []kubeciv1.Step{step("s1"), step("s2", "s1"), step("p1", "s2"), step("p2", "s2"), step("p3", "s2")} // s1,s2 | p1,p2,p3
	var (
		mu      sync.Mutex
		running int
		maxSeen int
	)
	arrived := make(chan struct{}, 3)
	allThere := make(chan struct{})
	go func() {
		for range 3 {
			<-arrived
		}
		close(allThere)
	}()
	run := func(_ context.Context, s plan.TaskStep) StepResult {
		mu.Lock()
		running++
		maxSeen = max(maxSeen, running)
		mu.Unlock()
		defer func() { mu.Lock(); running--; mu.Unlock() }()
		res := StepResult{Name: s.Step.Name, Outcome: Succeeded}
		if !s.Parallel {
			return res
		}
		arrived <- struct{}{}
		select {
		case <-allThere:
		case <-time.After(10 * time.Second):
			res.Outcome, res.Message = Failed, "the other parallel steps never started"
		}
		return res
	}
	results := execute(context.Background(), mustPlan(t, steps), func(plan.TaskStep) {}, run)
	for _, r := range results {
		if r.Outcome != Succeeded {
			t.Errorf("step %s: %s %s", r.Name, r.Outcome, r.Message)
		}
	}
	if maxSeen != 3 {
		t.Errorf("at most %d steps ran at once, want 3 (the parallel ones)", maxSeen)
	}
}

// Once the run's context is done the running steps end as they report, and
// nothing else starts.
func TestExecuteInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	run := func(ctx context.Context, s plan.TaskStep) StepResult {
		if s.Step.Name == "step-1" {
			cancel()
			<-ctx.Done()
			return StepResult{Name: s.Step.Name, Outcome: Interrupted}
		}
		t.Errorf("step %s started after the run was interrupted", s.Step.Name)
		return StepResult{Name: s.Step.Name, Outcome: Succeeded}
	}
	results := execute(ctx, mustPlan(t, docSteps), func(plan.TaskStep) {}, run)
	want := []string{"step-1 Interrupted",
		"step-2 Skipped: not started: the run was interrupted", "step-3 Skipped: not started: the run was interrupted",
		"step-4 Skipped: not started: the run was interrupted", "step-5 Skipped: not started: the run was interrupted"}
	if diff := cmp.Diff(want, brief(results)); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if got := outcome(results, ctx.Err() != nil); got != Interrupted {
		t.Errorf("run outcome %s, want Interrupted", got)
	}
}

func TestOutcome(t *testing.T) {
	ok := StepResult{Outcome: Succeeded}
	cases := []struct {
		steps       []StepResult
		interrupted bool
		want        Outcome
	}{
		{[]StepResult{ok, ok}, false, Succeeded},
		{[]StepResult{ok, {Outcome: Failed}}, false, Failed},
		{[]StepResult{ok, {Outcome: TimedOut}}, false, Failed},
		{[]StepResult{ok, {Outcome: Skipped}}, false, Failed},
		{[]StepResult{ok, ok}, true, Interrupted},
	}
	for i, tc := range cases {
		if got := outcome(tc.steps, tc.interrupted); got != tc.want {
			t.Errorf("case %d: outcome %s, want %s", i, got, tc.want)
		}
	}
}
