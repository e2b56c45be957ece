package plan

import (
	"fmt"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Count says how many of noun there are, in the plural unless n is 1:
// "1 task", "2 tasks".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// StepNames lists the names of the steps of each list, in order: a task's
// steps in the order they run are StepNames(t.SerialSteps, t.ParallelSteps).
func StepNames(lists ...[]kubeciv1.Step) []string {
	var out []string
	for _, steps := range lists {
		for _, s := range steps {
			out = append(out, s.Name)
		}
	}
	return out
}
