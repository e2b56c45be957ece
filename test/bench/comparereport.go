package main

import (
	"fmt"
)

// compareTables lays out the side-by-side figures: one table per workload,
// a column per engine and the ratio Kube CI / Argo.
func compareTables(rs []CompareResult) []table {
	var out []table
	byWorkload := map[string]map[string]CompareResult{}
	var order []string
	for _, r := range rs {
		if byWorkload[r.Workload] == nil {
			byWorkload[r.Workload] = map[string]CompareResult{}
			order = append(order, r.Workload)
		}
		byWorkload[r.Workload][r.Engine] = r
	}
	for i, wl := range order {
		k, a := byWorkload[wl][engineKubeCI], byWorkload[wl][engineArgo]
		t := table{title: fmt.Sprintf("5.%d Side by side with Argo Workflows: %s workflow, 0s steps", i+1, wl),
			header: []string{"figure", engineKubeCI, engineArgo, "Kube CI / Argo"}}
		row := func(name string, get func(CompareResult) Summary, prec int) {
			t.rows = append(t.rows, []string{name, sum(get(k), prec), sum(get(a), prec), ratio(get(k), get(a))})
		}
		row("runs completed/min", func(r CompareResult) Summary { return r.PerMinute }, 1)
		row("runs failed", func(r CompareResult) Summary { return r.Failed }, 0)
		row("pods per run", func(r CompareResult) Summary { return r.PodsPerRun }, 1)
		row("API requests per run (all clients)", func(r CompareResult) Summary { return r.RequestsPerRun }, 1)
		row("API server CPU ms per run", func(r CompareResult) Summary { return scale(r.APIServerCPUPerRun, 1000) }, 1)
		row("runs per API server CPU second", func(r CompareResult) Summary { return inverse(r.APIServerCPUPerRun) }, 1)
		row("submit -> first pod, median ms", func(r CompareResult) Summary { return r.FirstPodMedianMs }, 0)
		row("submit -> first pod, p99 ms", func(r CompareResult) Summary { return r.FirstPodP99Ms }, 0)
		row("submit -> completed, median ms", func(r CompareResult) Summary { return r.DoneMedianMs }, 0)
		row("submit -> completed, p99 ms", func(r CompareResult) Summary { return r.DoneP99Ms }, 0)
		row("controller CPU s (first submit to last run ended)", func(r CompareResult) Summary { return r.ControllerCPU }, 1)
		row("controller CPU ms per run", func(r CompareResult) Summary { return scale(r.ControllerCPUPerRun, 1000) }, 1)
		row("controller peak RSS MiB", func(r CompareResult) Summary { return r.ControllerPeakMiB }, 0)
		out = append(out, t)
		for _, e := range []CompareResult{k, a} {
			if len(e.Requests) > 0 {
				rt := requestsTable(e.Requests)
				rt.title = fmt.Sprintf("   %s, %s workflow: API requests per run (runs submitted in the window, until they all ended; all clients)", e.Engine, wl)
				out = append(out, rt)
			}
		}
	}
	return out
}

// scale multiplies a Summary by f.
func scale(s Summary, f float64) Summary {
	return Summary{Median: s.Median * f, Min: s.Min * f, Max: s.Max * f, Runs: s.Runs}
}

// inverse is 1/s (for an odd number of runs, the median of the inverses is
// the inverse of the median;
// min and max swap).
func inverse(s Summary) Summary {
	if s.Runs == 0 || s.Min <= 0 {
		return Summary{}
	}
	return Summary{Median: 1 / s.Median, Min: 1 / s.Max, Max: 1 / s.Min, Runs: s.Runs}
}
