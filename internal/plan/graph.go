package plan

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// graph is the dependency graph of a list of steps, by index in that list.
type graph struct {
	steps []kubeciv1.Step
	// deps[i] are the indexes of the steps step i depends on, without
	// duplicates, unknown names or itself.
	deps [][]int
	// level[i] is 0 for a step without dependencies, else one more than the
	// highest level of its dependencies; -1 for a step on or behind a cycle.
	level []int
}

// buildGraph indexes steps by name, resolves dependencies and levels every step
// that is not on or behind a cycle. It returns every structural problem: duplicate
// names, unknown or repeated dependencies, self-dependencies and cycles. Its cost
// is linear in steps plus dependencies.
func buildGraph(steps []kubeciv1.Step, stepsPath *field.Path) (*graph, field.ErrorList) {
	var errs field.ErrorList
	index := make(map[string]int, len(steps))
	for i, s := range steps {
		if first, dup := index[s.Name]; dup {
			errs = append(errs, withDetail(field.Duplicate(stepsPath.Index(i).Child("name"), s.Name),
				fmt.Sprintf("step %q is already defined at %s", s.Name, stepsPath.Index(first))))
			continue
		}
		index[s.Name] = i
	}

	g := &graph{steps: steps, deps: make([][]int, len(steps)), level: make([]int, len(steps))}
	// listedBy[d] == i+1 when step i already listed step d as a dependency.
	listedBy := make([]int, len(steps))
	for i, s := range steps {
		for j, dep := range s.Dependency {
			p := stepsPath.Index(i).Child("dependency").Index(j)
			d, ok := index[dep]
			switch {
			case !ok:
				errs = append(errs, withDetail(field.NotFound(p, dep), fmt.Sprintf("step %q does not exist", dep)))
			case d == i:
				errs = append(errs, field.Invalid(p, dep, fmt.Sprintf("step %q depends on itself", dep)))
			case listedBy[d] == i+1:
				errs = append(errs, withDetail(field.Duplicate(p, dep), fmt.Sprintf("step %q is listed twice", dep)))
			default:
				listedBy[d] = i + 1
				g.deps[i] = append(g.deps[i], d)
			}
		}
	}

	if unleveled := g.computeLevels(); len(unleveled) > 0 {
		errs = append(errs, g.cycleErrors(unleveled, stepsPath)...)
	}
	return g, errs
}

// computeLevels levels the steps with Kahn's algorithm and returns the steps left
// unleveled because they are on a cycle or depend on one.
func (g *graph) computeLevels() []int {
	n := len(g.steps)
	pending := make([]int, n) // dependencies not yet leveled
	dependants := make([][]int, n)
	queue := make([]int, 0, n)
	for i := range g.steps {
		pending[i] = len(g.deps[i])
		for _, d := range g.deps[i] {
			dependants[d] = append(dependants[d], i)
		}
		g.level[i] = -1
		if pending[i] == 0 {
			g.level[i] = 0
			queue = append(queue, i)
		}
	}
	for head := 0; head < len(queue); head++ {
		d := queue[head]
		for _, i := range dependants[d] {
			g.level[i] = max(g.level[i], g.level[d]+1)
			if pending[i]--; pending[i] == 0 {
				queue = append(queue, i)
			}
		}
	}
	if len(queue) == n {
		return nil
	}
	leveled := make([]bool, n)
	for _, i := range queue {
		leveled[i] = true
	}
	var left []int
	for i := range g.level {
		if !leveled[i] {
			g.level[i] = -1
			left = append(left, i)
		}
	}
	return left
}

// cycleErrors reports each cycle among the unleveled steps once, as the path of
// step names around it, starting from its earliest declared step.
func (g *graph) cycleErrors(unleveled []int, stepsPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	reported := make(map[int]bool)
	for _, start := range unleveled {
		if reported[start] {
			continue
		}
		cycle := g.findCycleFrom(start)
		if cycle == nil || reported[cycle[0]] {
			continue
		}
		names := make([]string, 0, len(cycle)+1)
		for _, i := range cycle {
			reported[i] = true
			names = append(names, g.steps[i].Name)
		}
		names = append(names, g.steps[cycle[0]].Name)
		first, next := cycle[0], cycle[1%len(cycle)]
		errs = append(errs, field.Invalid(stepsPath.Index(first).Child("dependency").Index(g.depPosition(first, next)),
			g.steps[next].Name, "dependency cycle: "+strings.Join(names, " -> ")))
	}
	return errs
}

// findCycleFrom follows unleveled dependencies from start until a step repeats,
// and returns the cycle found, rotated to begin at its earliest declared step. It
// returns nil when start only depends on a cycle already walked.
func (g *graph) findCycleFrom(start int) []int {
	pos := map[int]int{}
	var path []int
	for cur := start; ; {
		if p, seen := pos[cur]; seen {
			cycle := path[p:]
			low := 0
			for k, i := range cycle {
				if i < cycle[low] {
					low = k
				}
			}
			return append(append([]int{}, cycle[low:]...), cycle[:low]...)
		}
		pos[cur] = len(path)
		path = append(path, cur)
		next := -1
		for _, d := range g.deps[cur] {
			if g.level[d] < 0 {
				next = d
				break
			}
		}
		if next < 0 {
			return nil
		}
		cur = next
	}
}

// depPosition is the index in step i's dependency list of the name of step d.
func (g *graph) depPosition(i, d int) int {
	for j, name := range g.steps[i].Dependency {
		if name == g.steps[d].Name {
			return j
		}
	}
	return 0
}
