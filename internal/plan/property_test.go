package plan

import (
	"fmt"
	"math/rand/v2"
	"testing"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// randomDAG returns n steps declared in shuffled order, each depending on up to
// maxDeps steps that come earlier in a hidden topological order, so the graph
// is acyclic. It also returns the number of dependency edges.
func randomDAG(r *rand.Rand, n, maxDeps int) ([]kubeciv1.Step, int) {
	topo := make([]kubeciv1.Step, n)
	edges := 0
	for i := range topo {
		topo[i] = step(fmt.Sprintf("s%d", i))
		if i == 0 {
			continue
		}
		seen := map[int]bool{}
		for range r.IntN(maxDeps + 1) {
			d := r.IntN(i)
			if !seen[d] {
				seen[d] = true
				topo[i].Dependency = append(topo[i].Dependency, topo[d].Name)
				edges++
			}
		}
	}
	r.Shuffle(n, func(i, j int) { topo[i], topo[j] = topo[j], topo[i] })
	return topo, edges
}

// checkPlan fails t unless every step is placed exactly once and every
// dependency has finished before its dependant starts: it is in an earlier
// task, or an earlier serial step of the same task.
func checkPlan(t *testing.T, steps []kubeciv1.Step, tasks []kubeciv1.Task) {
	t.Helper()
	type place struct{ task, serial int } // serial is -1 for a parallel step
	where := map[string]place{}
	for _, ts := range Steps(tasks) {
		if _, dup := where[ts.Step.Name]; dup {
			t.Fatalf("step %s placed twice", ts.Step.Name)
		}
		p := place{ts.Task, -1}
		if !ts.Parallel {
			p.serial = len(where) // any increasing number keeps serial order
		}
		where[ts.Step.Name] = p
	}
	if len(where) != len(steps) {
		t.Fatalf("placed %d steps, want %d", len(where), len(steps))
	}
	for _, s := range steps {
		ps := where[s.Name]
		for _, d := range s.Dependency {
			pd := where[d]
			before := pd.task < ps.task ||
				pd.task == ps.task && pd.serial >= 0 && (ps.serial < 0 || pd.serial < ps.serial)
			if !before {
				t.Fatalf("step %s (task %d) may start before its dependency %s (task %d) finished", s.Name, ps.task, d, pd.task)
			}
		}
	}
}

func TestPlanRandomDAGs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 500 {
		steps, _ := randomDAG(r, 1+r.IntN(40), 1+r.IntN(5))
		tasks, err := Plan(steps)
		if err != nil {
			t.Fatal(err)
		}
		checkPlan(t, steps, tasks)
	}
}

func FuzzPlan(f *testing.F) {
	f.Add(uint64(1), uint8(5), uint8(2))
	f.Add(uint64(42), uint8(60), uint8(6))
	f.Fuzz(func(t *testing.T, seed uint64, n, maxDeps uint8) {
		r := rand.New(rand.NewPCG(seed, seed>>7))
		steps, _ := randomDAG(r, 1+int(n), int(maxDeps%8))
		tasks, err := Plan(steps)
		if err != nil {
			t.Fatal(err)
		}
		checkPlan(t, steps, tasks)
	})
}

// BenchmarkPlan plans random DAGs of 100, 1,000 and 10,000 steps with up to four
// dependencies each, and reports the cost per step plus edge, which stays flat
// when the cost is linear.
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{100, 1_000, 10_000} {
		steps, edges := randomDAG(rand.New(rand.NewPCG(7, 7)), n, 4)
		b.Run(fmt.Sprintf("steps=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Plan(steps); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n+edges), "ns/(step+edge)")
		})
	}
}
