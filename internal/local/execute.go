package local

import (
	"context"
	"errors"
	"fmt"
	"sync"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
)

// stepFunc runs one step until it ends; it must return when ctx is done.
type stepFunc func(ctx context.Context, s plan.TaskStep) StepResult

// execute runs a plan's steps in the order a Workplan's pods run them and
// returns one result per step, in plan order (plan.Steps):
//
//   - tasks run one after another;
//   - in a task, the serial steps run one after another, then the parallel
//     steps run together;
//   - a serial step that does not succeed ends its task: the steps after it
//     never start;
//   - a parallel step that does not succeed lets its siblings finish;
//   - no task starts after a step did not succeed, nor after ctx is done.
//
// starting is called in plan order, from this goroutine, just before each step
// starts (for parallel steps, all of them before any runs), so that what it
// prints comes in a fixed order.
func execute(ctx context.Context, tasks []kubeciv1.Task, starting func(plan.TaskStep), run stepFunc) []StepResult {
	steps := plan.Steps(tasks)
	results := make([]StepResult, len(steps))
	failed := "" // the first step that did not succeed
	next := 0    // index in steps of the next step
	for _, task := range tasks {
		for range task.SerialSteps {
			s := steps[next]
			if reason := stopReason(ctx, failed); reason != "" {
				results[next] = skipped(s, reason)
			} else {
				starting(s)
				results[next] = run(ctx, s)
				if results[next].Outcome != Succeeded {
					failed = s.Step.Name
				}
			}
			next++
		}

		parallel := steps[next : next+len(task.ParallelSteps)]
		out := results[next : next+len(task.ParallelSteps)]
		next += len(task.ParallelSteps)
		if reason := stopReason(ctx, failed); reason != "" {
			for i, s := range parallel {
				out[i] = skipped(s, reason)
			}
			continue
		}
		for _, s := range parallel {
			starting(s)
		}
		var wg sync.WaitGroup
		for i, s := range parallel {
			wg.Go(func() { out[i] = run(ctx, s) })
		}
		wg.Wait()
		for i, s := range parallel {
			if out[i].Outcome != Succeeded && failed == "" {
				failed = s.Step.Name
			}
		}
	}
	return results
}

// stopReason says why no further step may start, or "" when they may.
func stopReason(ctx context.Context, failed string) string {
	switch {
	case errors.Is(context.Cause(ctx), errRunDeadline):
		return "not started: " + context.Cause(ctx).Error()
	case ctx.Err() != nil:
		return "not started: the run was interrupted"
	case failed != "":
		return fmt.Sprintf("not started: step %s did not succeed", failed)
	}
	return ""
}

func skipped(s plan.TaskStep, reason string) StepResult {
	return StepResult{Name: s.Step.Name, Task: s.Task, Parallel: s.Parallel, Outcome: Skipped, Message: reason}
}
