package dashboard

import (
	"fmt"
	"strings"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
)

// Sizes of the step graph's drawing, in SVG user units (CSS pixels).
const (
	nodeW    = 184
	nodeH    = 40
	colGap   = 56
	rowGap   = 14
	padX     = 16
	padTop   = 40 // room for the task labels
	padBot   = 16
	laneH    = 20 // the lane below the rows that edges skipping a level take
	maxLabel = 20 // characters of a step name shown in a node; the rest in its tooltip
)

// dag is a step graph laid out for drawing: one column per level of the plan
// (each step one more than its deepest dependency), steps in a column in plan
// order, an edge per dependency, and a box per task around the levels it packs.
type dag struct {
	Width, Height int
	NodeW, NodeH  int
	Nodes         []dagNode
	Edges         []dagEdge
	Tasks         []dagTask
}

// dagNode is one step.
type dagNode struct {
	Name, Label string
	X, Y        int
	// Phase is the step's state on a run's graph, empty on a Workflow's.
	Phase string
	// Parallel: the step runs as a container of its task's pod, next to its
	// level's other steps; otherwise it is a serial step (an init container).
	Parallel bool
	Task     int
	// Sub is the node's second line: serial or parallel on a Workflow's
	// graph; on a run's, the step's state, exit code and duration.
	Sub string
}

// dagEdge is one dependency, drawn from the dependency to the step.
type dagEdge struct {
	From, To string
	Path     string
}

// dagTask is the box of one task (one pod).
type dagTask struct {
	Index      int
	X, Y, W, H int
	Label      string
}

// layoutDAG lays out the steps of tasks (a Workplan's, or a Workflow's as
// planned). states, when not nil, gives each step's phase and detail.
func layoutDAG(tasks []kubeciv1.Task, states map[string]stepState) (*dag, error) {
	steps := plan.Steps(tasks)
	specs := make([]kubeciv1.Step, len(steps))
	for i, ts := range steps {
		specs[i] = ts.Step
	}
	levels, err := plan.Levels(specs)
	if err != nil {
		return nil, err
	}
	nLevels, rows := 0, map[int]int{}
	for _, l := range levels {
		nLevels = max(nLevels, l+1)
	}
	d := &dag{NodeW: nodeW, NodeH: nodeH}
	pos := make(map[string]dagNode, len(steps))
	maxRows := 0
	// Tasks hold consecutive levels: remember each task's first and last.
	taskCols := map[int][2]int{}
	for i, ts := range steps {
		l := levels[i]
		r := rows[l]
		rows[l]++
		maxRows = max(maxRows, rows[l])
		n := dagNode{Name: ts.Step.Name, Label: shorten(ts.Step.Name, maxLabel), X: padX + l*(nodeW+colGap),
			Y: padTop + r*(nodeH+rowGap), Parallel: ts.Parallel, Task: ts.Task}
		n.Sub = "serial"
		if ts.Parallel {
			n.Sub = "parallel"
		}
		if s, ok := states[ts.Step.Name]; ok {
			n.Phase, n.Sub = s.Phase, nodeSub(s)
		}
		d.Nodes = append(d.Nodes, n)
		pos[n.Name] = n
		c, seen := taskCols[ts.Task]
		if !seen {
			c = [2]int{l, l}
		}
		taskCols[ts.Task] = [2]int{min(c[0], l), max(c[1], l)}
	}
	d.Width = 2*padX + nLevels*nodeW + max(0, nLevels-1)*colGap
	d.Height = padTop + maxRows*nodeH + max(0, maxRows-1)*rowGap + padBot
	// An edge that skips a level would cross the nodes between: it goes
	// round them, through a lane below every row.
	laneY := d.Height - padBot + laneH/2
	level := make(map[string]int, len(steps))
	for i, ts := range steps {
		level[ts.Step.Name] = levels[i]
	}
	for _, ts := range steps {
		for _, dep := range ts.Step.Dependency {
			if dl, ok := level[dep]; ok && level[ts.Step.Name]-dl > 1 {
				d.Height = laneY + laneH/2 + padBot
				break
			}
		}
	}
	for t := range tasks {
		c := taskCols[t]
		x := padX + c[0]*(nodeW+colGap) - colGap/4
		w := (c[1]-c[0]+1)*nodeW + (c[1]-c[0])*colGap + colGap/2
		d.Tasks = append(d.Tasks, dagTask{Index: t, X: x, Y: 8, W: w, H: d.Height - 12, Label: fmt.Sprintf("task %d · one pod", t)})
	}
	for _, ts := range steps {
		to := pos[ts.Step.Name]
		for _, dep := range ts.Step.Dependency {
			from, ok := pos[dep]
			if !ok {
				continue
			}
			x1, y1 := from.X+nodeW, from.Y+nodeH/2
			x2, y2 := to.X, to.Y+nodeH/2
			mid := (x1 + x2) / 2
			path := fmt.Sprintf("M%d %d C%d %d, %d %d, %d %d", x1, y1, mid, y1, mid, y2, x2-4, y2)
			if level[to.Name]-level[dep] > 1 {
				a, b := x1+colGap/2, x2-colGap/2
				path = fmt.Sprintf("M%d %d C%d %d, %d %d, %d %d L%d %d C%d %d, %d %d, %d %d",
					x1, y1, a, y1, a, laneY, a+colGap/4, laneY, b-colGap/4, laneY, b, laneY, b, y2, x2-4, y2)
			}
			d.Edges = append(d.Edges, dagEdge{From: dep, To: to.Name, Path: path})
		}
	}
	return d, nil
}

// nodeSub says shortly where a step of a run stands: "running · 12s",
// "exit 0 · 3s", "waiting".
func nodeSub(s stepState) string {
	switch {
	case s.Detail == "":
		return strings.ToLower(s.Phase)
	case s.Phase == "Running":
		return "running · " + s.Detail
	}
	return s.Detail
}

// shorten cuts s to n characters, ending in an ellipsis when it was longer.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
