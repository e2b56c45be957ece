// Package runlogs follows the logs of a run's steps, for kubeci logs and the
// dashboard alike: in plan order, a task's parallel steps interleaved, each
// step's log from the moment its container starts, task after task, with a
// note for each step that has no log and why. Where the lines go (a terminal,
// a browser) is the caller's Sink; where they come from (the pods/log API,
// scripted streams in tests) its Streamer.
package runlogs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"k8s.io/utils/clock"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"
)

// Streamer opens the log of one container. It is the only part of `kubeci
// logs` that needs a kubelet: the cluster's reads the pods/log API, tests use
// scripted streams.
type Streamer interface {
	// Open returns container's log in pod. With follow the log goes on until
	// the container ends; without, it holds what was written so far.
	Open(ctx context.Context, pod, container string, follow bool) (io.ReadCloser, error)
}

// Errors a Streamer returns for the cases the follower handles.
var (
	// ErrPodGone: the pod does not exist (any more).
	ErrPodGone = errors.New("pod not found")
	// ErrNotStarted: the container has not started yet, so it has no log.
	ErrNotStarted = errors.New("container not started")
)

// Update is a new state of the run being followed: the Workplan (nil once
// deleted), or why its state can no longer be known.
type Update struct {
	Workplan *kubeciv1.Workplan
	Err      error
}

// Follower prints the logs of a run's steps in plan order: each step's
// lines prefixed with its name, the steps of a task's parallel group
// interleaved as their lines come. Notes (a step that did not run, a pod
// deleted) go to notes.
type Follower struct {
	Streams Streamer
	Out     Sink
	Notes   io.Writer
	// RetryDelay is how long to wait before opening again a log whose container
	// the kubelet had not started yet.
	RetryDelay time.Duration
	// Clock tells the time RetryDelay is counted on; the real clock when nil.
	Clock clock.Clock
	// Idle, when set, is called each time the follower has acted on all it
	// knows and waits for news, with how much news (states of the run, ends
	// of logs, retries) it has had: tests know then what it did, without
	// sleeping.
	Idle func(news int)
}

// Sink receives the lines of a run's steps, without their newlines. It is
// called from several goroutines at once (the parallel steps of a task), one
// whole line at a time.
type Sink interface {
	Line(step, line string) error
}

// ErrDeleted says a Workplan was deleted while someone waited for it.
var ErrDeleted = errors.New("deleted")

// Phase is a Workplan's phase as users see it: Pending before the operator
// wrote one, Cancelling between a cancel and the run's end (as kubectl shows
// Terminating).
func Phase(wp *kubeciv1.Workplan) string {
	p := wp.Status.Phase
	switch {
	case p == "":
		return string(kubeciv1.WorkplanPending)
	case wp.Spec.Cancelled && !p.Finished():
		return "Cancelling"
	}
	return string(p)
}

// stepStage is how far a step has gone, from the Workplan's status.
type stepStage int

const (
	// stageWaiting: the step has not started; it may still.
	stageWaiting stepStage = iota
	// stageStarted: the step's container started, so it has a log.
	stageStarted
	// stageNeverRan: the run ended, or the step failed, without its container
	// starting.
	stageNeverRan
)

// stageOf tells how far step ts of wp has gone, with its status if the
// operator recorded one.
func stageOf(wp *kubeciv1.Workplan, ts plan.TaskStep) (stepStage, *kubeciv1.StepStatus) {
	var st *kubeciv1.StepStatus
	for i := range wp.Status.Steps {
		if wp.Status.Steps[i].Name == ts.Step.Name {
			st = &wp.Status.Steps[i]
			break
		}
	}
	if st != nil {
		switch {
		case st.Phase == kubeciv1.StepRunning || st.Phase == kubeciv1.StepSucceeded:
			return stageStarted, st
		case st.Phase == kubeciv1.StepFailed && (st.StartTime != nil || st.ExitCode != nil):
			return stageStarted, st
		case st.Phase == kubeciv1.StepFailed || st.Phase == kubeciv1.StepSkipped:
			return stageNeverRan, st
		}
	}
	if wp.Status.Phase.Finished() {
		return stageNeverRan, st
	}
	return stageWaiting, st
}

// neverRanNote says why a step has no log.
func neverRanNote(wp *kubeciv1.Workplan, ts plan.TaskStep, st *kubeciv1.StepStatus) string {
	switch {
	case st != nil && st.Phase == kubeciv1.StepFailed && st.Message != "":
		return fmt.Sprintf("step %s failed without starting: %s", ts.Step.Name, st.Message)
	case st != nil && st.Phase == kubeciv1.StepFailed:
		return fmt.Sprintf("step %s failed without starting", ts.Step.Name)
	}
	return fmt.Sprintf("step %s did not run: the run ended (%s) before it started", ts.Step.Name, Phase(wp))
}

// podOf is the name of the pod that runs ts.
func podOf(wp *kubeciv1.Workplan, ts plan.TaskStep) string {
	return names.TaskPod(wp.Name, ts.Task)
}

// goneNote says that a task's pod, and so its steps' logs, are gone.
func goneNote(wp *kubeciv1.Workplan, ts plan.TaskStep) string {
	return fmt.Sprintf("the logs of task %d are gone: its pod %s was deleted (pods go when a run is cleaned up or its history pruned)",
		ts.Task, podOf(wp, ts))
}

// Print prints, in plan order, what each of steps has logged so far. When
// only one step is asked for and it has no log, that is an error.
func (f *Follower) Print(ctx context.Context, wp *kubeciv1.Workplan, steps []plan.TaskStep) error {
	gone := map[string]bool{}
	note := func(msg string) error {
		if len(steps) == 1 {
			return errors.New(msg)
		}
		fmt.Fprintln(f.Notes, msg)
		return nil
	}
	for _, ts := range steps {
		stage, st := stageOf(wp, ts)
		var msg string
		switch stage {
		case stageWaiting:
			msg = fmt.Sprintf("step %s has not started yet (kubeci logs -f follows the run)", ts.Step.Name)
		case stageNeverRan:
			msg = neverRanNote(wp, ts, st)
		case stageStarted:
			pod := podOf(wp, ts)
			if gone[pod] {
				continue
			}
			err := f.stream(ctx, pod, ts.Step.Name, false)
			switch {
			case err == nil:
				continue
			case errors.Is(err, ErrPodGone):
				gone[pod] = true
				msg = goneNote(wp, ts)
			default:
				msg = fmt.Sprintf("no log for step %s: %v", ts.Step.Name, err)
			}
		}
		if err := note(msg); err != nil {
			return err
		}
	}
	return nil
}

// stream copies one container's log to the output.
func (f *Follower) stream(ctx context.Context, pod, step string, follow bool) error {
	r, err := f.Streams.Open(ctx, pod, step, follow)
	if err != nil {
		return err
	}
	defer r.Close()
	return copyLines(f.Out, step, r)
}

// SelectSteps returns wp's steps in plan order, or only the one named step.
func SelectSteps(wp *kubeciv1.Workplan, step string) ([]plan.TaskStep, error) {
	steps := plan.Steps(wp.Spec.Tasks)
	if step == "" {
		return steps, nil
	}
	var all []string
	for _, ts := range steps {
		if ts.Step.Name == step {
			return []plan.TaskStep{ts}, nil
		}
		all = append(all, ts.Step.Name)
	}
	return nil, fmt.Errorf("workplan %s has no step %q; its steps are: %s", wp.Name, step, strings.Join(all, ", "))
}
