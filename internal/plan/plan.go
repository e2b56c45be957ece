package plan

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Plan resolves steps into ordered tasks, as the design doc does:
//
//   - each step's level is one more than the highest level of its dependencies
//     (0 without dependencies);
//   - levels are taken in order; a level holding one step adds it to the current
//     task's serial steps (init containers);
//   - a level holding several steps, or the last level, becomes the current
//     task's parallel steps (containers) and closes the task.
//
// Within a level steps keep their order of declaration, so the result is
// deterministic. Every dependency of a step lies in an earlier level, so it has
// finished before the step starts. Plan fails with every structural problem of
// the steps (see Validate) and costs time linear in steps plus dependencies.
func Plan(steps []kubeciv1.Step) ([]kubeciv1.Task, error) {
	g, errs := buildGraph(steps, field.NewPath("spec", "steps"))
	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	return g.tasks(), nil
}

// tasks groups a cycle-free graph's steps by level and packs the levels into
// tasks.
func (g *graph) tasks() []kubeciv1.Task {
	var levels [][]kubeciv1.Step
	for i, l := range g.level {
		for len(levels) <= l {
			levels = append(levels, nil)
		}
		levels[l] = append(levels[l], g.steps[i])
	}

	var tasks []kubeciv1.Task
	var current kubeciv1.Task
	for l, level := range levels {
		if len(level) == 1 && l < len(levels)-1 {
			current.SerialSteps = append(current.SerialSteps, level[0])
			continue
		}
		current.ParallelSteps = level
		tasks = append(tasks, current)
		current = kubeciv1.Task{}
	}
	return tasks
}

// Steps lists a plan's steps in the order they run, each with the index of its
// task: a task's serial steps, then its parallel steps.
func Steps(tasks []kubeciv1.Task) []TaskStep {
	var out []TaskStep
	for t, task := range tasks {
		for _, s := range task.SerialSteps {
			out = append(out, TaskStep{Task: t, Step: s})
		}
		for _, s := range task.ParallelSteps {
			out = append(out, TaskStep{Task: t, Step: s, Parallel: true})
		}
	}
	return out
}

// TaskStep is a step of a plan with its place in it.
type TaskStep struct {
	// Task is the index of the task holding the step.
	Task int
	// Parallel is true for a parallel step, false for a serial one.
	Parallel bool
	Step     kubeciv1.Step
}

// Levels returns each step's level (see Plan), by index in steps: the
// columns of the steps' graph, from which Plan packs its tasks. It fails as
// Plan does.
func Levels(steps []kubeciv1.Step) ([]int, error) {
	g, errs := buildGraph(steps, field.NewPath("spec", "steps"))
	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	return g.level, nil
}
