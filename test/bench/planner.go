package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// PlannerResult is BenchmarkPlan of internal/plan for one DAG size, over
// -count runs.
type PlannerResult struct {
	Steps int `json:"steps"`
	// NsPerOp, BytesPerOp and AllocsPerOp per Plan call; NsPerStepEdge is the
	// time per step plus dependency edge (flat when planning is linear).
	NsPerOp       Summary `json:"nsPerOp"`
	NsPerStepEdge Summary `json:"nsPerStepEdge"`
	BytesPerOp    Summary `json:"bytesPerOp"`
	AllocsPerOp   Summary `json:"allocsPerOp"`
}

// plannerGroup runs `go test -bench BenchmarkPlan ./internal/plan` with
// -count reps and summarizes its output.
func (b *bench) plannerGroup(ctx context.Context) ([]PlannerResult, error) {
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", "^BenchmarkPlan$", "-benchmem",
		"-count", strconv.Itoa(b.opts.reps), "./internal/plan")
	cmd.Dir = b.root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go test -bench BenchmarkPlan ./internal/plan: %w\n%s", err, out)
	}
	return parsePlannerOutput(string(out))
}

var planLine = regexp.MustCompile(`^BenchmarkPlan/steps=(\d+)(?:-\d+)?\s+\d+\s+(.*)$`)

// parsePlannerOutput reads the BenchmarkPlan lines of `go test -bench` output:
// "BenchmarkPlan/steps=100-2  12345  98765 ns/op  123.4 ns/(step+edge)
// 4567 B/op  89 allocs/op", one per size and run.
func parsePlannerOutput(out string) ([]PlannerResult, error) {
	type samples struct{ ns, nsEdge, bytes, allocs []float64 }
	bySize := map[int]*samples{}
	var sizes []int
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := planLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		steps, _ := strconv.Atoi(m[1])
		s := bySize[steps]
		if s == nil {
			s = &samples{}
			bySize[steps] = s
			sizes = append(sizes, steps)
		}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: %q is not a number", sc.Text(), fields[i])
			}
			switch fields[i+1] {
			case "ns/op":
				s.ns = append(s.ns, v)
			case "ns/(step+edge)":
				s.nsEdge = append(s.nsEdge, v)
			case "B/op":
				s.bytes = append(s.bytes, v)
			case "allocs/op":
				s.allocs = append(s.allocs, v)
			}
		}
	}
	if len(sizes) == 0 {
		return nil, fmt.Errorf("no BenchmarkPlan results in the output of go test:\n%s", out)
	}
	var res []PlannerResult
	for _, n := range sizes {
		s := bySize[n]
		res = append(res, PlannerResult{Steps: n, NsPerOp: summarize(s.ns), NsPerStepEdge: summarize(s.nsEdge),
			BytesPerOp: summarize(s.bytes), AllocsPerOp: summarize(s.allocs)})
	}
	return res, nil
}
