package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"k8s.io/utils/clock"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"
)

// DefaultNamespace is the namespace of a Workflow file that names none
// (KUBECI_NAMESPACE).
const DefaultNamespace = "default"

// Config is how Run runs a Workflow.
type Config struct {
	// Runtime runs the steps (see Select); RuntimeNote says why it was chosen.
	Runtime     Runtime
	RuntimeNote string
	// WorkspaceDir is the workspace to use, kept afterwards; empty means a
	// fresh temporary directory, removed afterwards unless KeepWorkspace.
	WorkspaceDir  string
	KeepWorkspace bool
	// StepTimeout, when positive, stops a step that runs longer.
	StepTimeout time.Duration
	// Printer prints the run as it happens.
	Printer *Printer
	// Clock times the steps; nil means the real clock.
	Clock clock.PassiveClock
	// RunID names the run (its Workplan and containers); empty means a random
	// one.
	RunID string
	// Images replaces step images (--image).
	Images ImageMap
	// Trigger, when set, makes the run one triggered by an update of an
	// object (--trigger-object); nil means a manual run.
	Trigger *TriggerObject
	// Namespace is KUBECI_NAMESPACE when the Workflow names none; empty means
	// DefaultNamespace.
	Namespace string
}

// Run runs wf once on this machine, as a manual run, and returns how it ended.
// It plans wf as the operator does, prints what happens with c.Printer, and
// runs the steps with c.Runtime in the operator's order (see execute). When
// ctx is done the running steps are stopped and the rest skipped: the result
// is then Interrupted. Run fails, having run nothing, when wf is invalid or
// needs a cluster, or when the runtime refuses a step; the workspace is then
// gone again.
func Run(ctx context.Context, wf *kubeciv1.Workflow, c Config) (*Result, error) {
	if errs := Unsupported(wf); len(errs) > 0 {
		return nil, fmt.Errorf("workflow %s cannot run without a cluster:\n%s", wf.Name, plan.FormatErrors(errs))
	}
	clk := c.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	runID := c.RunID
	if runID == "" {
		runID = newRunID()
	}
	wp, err := localWorkplan(wf, c.Namespace, runID, c.Trigger.event())
	if err != nil {
		return nil, err
	}
	tf, err := writeTriggerFile(c.Trigger)
	if err != nil {
		return nil, err
	}
	defer tf.Close()
	var extraEnv []string
	if tf != nil {
		extraEnv = tf.env(c.Runtime.Name())
	}
	list := newSteps(wp, extraEnv)
	for i := range list {
		list[i].Image = c.Images.Map(list[i].Image)
	}
	steps := map[string]Step{}
	for _, s := range list {
		steps[s.Name] = s
	}

	ws, err := NewWorkspace(c.WorkspaceDir, c.KeepWorkspace)
	if err != nil {
		return nil, err
	}
	warnings, err := c.Runtime.Prepare(ctx, RunInfo{ID: runID, Workspace: ws.Dir, Steps: list, Mounts: tf.mounts()})
	if err != nil {
		c.Runtime.Cleanup()
		ws.Close()
		return nil, err
	}

	p := c.Printer
	p.header(wp, list, c.Runtime.Name(), c.RuntimeNote, ws)
	for _, w := range warnings {
		p.Warnf("%s", w)
	}

	res := &Result{
		Workflow: wp.Spec.Workflow, Workplan: wp.Name, Namespace: wp.Namespace,
		Runtime: c.Runtime.Name(), Workspace: ws.Dir, WorkspaceKept: ws.Kept(),
		Start: clk.Now(),
	}
	task := -1
	starting := func(ts plan.TaskStep) {
		if ts.Task != task {
			task = ts.Task
			t := wp.Spec.Tasks[task]
			p.task(task, plan.StepNames(t.SerialSteps), plan.StepNames(t.ParallelSteps))
		}
		p.started(ts)
	}
	run := func(ctx context.Context, ts plan.TaskStep) StepResult {
		r := runStep(ctx, c.Runtime, steps[ts.Step.Name], c.StepTimeout, p, clk)
		p.finished(r)
		return r
	}
	runCtx, cancel := withDeadline(ctx, wf.Spec.ActiveDeadlineSeconds)
	res.Steps = execute(runCtx, wp.Spec.Tasks, starting, run)
	cancel()

	if err := c.Runtime.Cleanup(); err != nil {
		p.Warnf("%v", err)
	}
	if err := ws.Close(); err != nil {
		p.Warnf("%v", err)
		res.WorkspaceKept = true
	}
	res.Finish = clk.Now()
	res.Outcome = outcome(res.Steps, ctx.Err() != nil)
	return res, nil
}

// errRunDeadline ends a run that passes spec.activeDeadlineSeconds.
var errRunDeadline = errors.New("the run passed its activeDeadlineSeconds")

// withDeadline bounds the run by the Workflow's activeDeadlineSeconds, as the
// operator does; nil means no bound.
func withDeadline(ctx context.Context, seconds *int64) (context.Context, context.CancelFunc) {
	if seconds == nil || *seconds <= 0 {
		return context.WithCancel(ctx)
	}
	d := time.Duration(*seconds) * time.Second
	return context.WithTimeoutCause(ctx, d, fmt.Errorf("%w (%s)", errRunDeadline, d))
}

// localWorkplan is the Workplan of a run of wf triggered by event, as the
// operator would create it, named after runID. A Workflow without a
// namespace is in namespace, else in DefaultNamespace.
func localWorkplan(wf *kubeciv1.Workflow, namespace, runID string, event kubeciv1.TriggerEvent) (*kubeciv1.Workplan, error) {
	wf = wf.DeepCopy()
	if wf.Namespace == "" {
		wf.Namespace = namespace
	}
	if wf.Namespace == "" {
		wf.Namespace = DefaultNamespace
	}
	if wf.Name == "" {
		wf.Name = wf.GenerateName + names.Hash(runID)[:5] // as the API server would name it
	}
	return plan.NewWorkplan(wf, event, names.Workplan(wf.Name, "local", runID))
}

// runStep runs one step with the runtime, its output printed line by line,
// and tells how it ended.
func runStep(ctx context.Context, rt Runtime, s Step, timeout time.Duration, p *Printer, clk clock.PassiveClock) StepResult {
	stepCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		stepCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	stdout, stderr := p.lines(s.Name, false), p.lines(s.Name, true)
	r := StepResult{Name: s.Name, Task: s.Task, Parallel: s.Parallel, Start: clk.Now()}
	exit := rt.RunStep(stepCtx, s, stdout, stderr)
	stdout.Close()
	stderr.Close()
	r.Finish = clk.Now()
	if exit.Code >= 0 {
		code := exit.Code
		r.ExitCode = &code
	}
	switch {
	case exit.Err != nil:
		r.Outcome, r.Message = Failed, exit.Err.Error()
	case exit.Stopped && errors.Is(context.Cause(ctx), errRunDeadline):
		r.Outcome, r.Message = TimedOut, "stopped: "+context.Cause(ctx).Error()
	case exit.Stopped && ctx.Err() != nil:
		r.Outcome, r.Message = Interrupted, "stopped: the run was interrupted"
	case exit.Stopped:
		r.Outcome, r.Message = TimedOut, fmt.Sprintf("stopped: it ran longer than the step timeout (%s)", timeout)
	case exit.Code == 0:
		r.Outcome = Succeeded
	default:
		r.Outcome, r.Message = Failed, exitMessage(exit.Code)
	}
	return r
}

// exitMessage explains the exit codes that shells and container engines give
// a meaning.
func exitMessage(code int) string {
	switch code {
	case exitSetup:
		return "the runtime could not start the step (see its output)"
	case exitCannotExec:
		return "the command cannot be executed"
	case exitNotFound:
		return "the command was not found"
	}
	return ""
}

// newRunID returns 10 random hex digits.
func newRunID() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
