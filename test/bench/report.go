package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Results is everything one `make bench` measured; it is written as JSON.
type Results struct {
	Date            time.Time         `json:"date"`
	Commit          string            `json:"commit"`
	Machine         Machine           `json:"machine"`
	DurationSeconds float64           `json:"durationSeconds"`
	Simulator       string            `json:"simulator"`
	Options         map[string]string `json:"options"`
	Latency         []LatencyResult   `json:"triggerLatency,omitempty"`
	Throughput      *ThroughputResult `json:"throughput,omitempty"`
	Cost            []CostResult      `json:"cost,omitempty"`
	Planner         []PlannerResult   `json:"planner,omitempty"`
	Compare         []CompareResult   `json:"sideBySide,omitempty"`
}

// table is one table of the report.
type table struct {
	title  string
	header []string
	rows   [][]string
}

// tables lays out the results.
func tables(r *Results) []table {
	var out []table
	if len(r.Latency) > 0 {
		t := table{title: "1. Trigger latency: ConfigMap update -> Workplan created (seen by a watch), ms",
			header: []string{"load", "achieved updates/s", "median", "p99", "coalesced", "unanswered",
				"API server CPU share", "operator CPU share", "API server CPU ms/update", "operator CPU ms/update", "Workflow size", "record shards (largest)", "operator peak RSS MiB"}}
		for _, l := range r.Latency {
			shards := "none (in the status)"
			if l.Shards > 0 {
				shards = fmt.Sprintf("%d (%.0f KiB)", l.Shards, l.ShardKiB)
			}
			t.rows = append(t.rows, []string{
				fmt.Sprintf("%s, %d ConfigMaps", l.latencyCase, l.ConfigMaps),
				sum(l.AchievedRate, 0), sum(l.MedianMs, 1), sum(l.P99Ms, 1), pct(l.Coalesced), sum(l.Missing, 0),
				pct(l.CPUShare["kube-apiserver"]), pct(l.CPUShare["operator"]), sum(l.APIServerMsPerUpdate, 1), sum(l.OperatorMsPerUpdate, 2), fmt.Sprintf("%.0f KiB", l.WorkflowKiB),
				shards, sum(l.PeakRSSMiB, 0)})
		}
		out = append(out, t)
	}
	if tp := r.Throughput; tp != nil {
		out = append(out, table{
			title: fmt.Sprintf("2. Throughput: design doc Workflow (2 tasks, 5 steps), %gs steps, %d in flight, %gs per run",
				tp.StepSeconds, tp.InFlight, tp.WindowSeconds),
			header: []string{"Workplans completed/min", "failed", "run time (create -> Completed) s", "simulator writes/Workplan"},
			rows:   [][]string{{sum(tp.PerMinute, 1), sum(tp.Failed, 0), sum(tp.RunSeconds, 2), sum(tp.SimulatorWrites, 1)}},
		})
		t := table{title: "   where the CPU time went during the throughput runs",
			header: []string{"process", "CPU seconds", "share of the machine's CPU"}}
		for _, name := range append(slices.Clone(processNames), "machine") {
			label := name
			if name == "machine" {
				label = "whole machine (all processes)"
			}
			t.rows = append(t.rows, []string{label, sum(tp.CPUSeconds[name], 1), pct(tp.CPUShare[name])})
		}
		out = append(out, t)
		if len(tp.Requests) > 0 {
			out = append(out, requestsTable(tp.Requests))
		}
	}
	if len(r.Cost) > 0 {
		t := table{title: "3. Operator cost as the work grows (each ConfigMap matched by one Workflow; then updates start runs)",
			header: []string{"Workflows x ConfigMaps", "settle s", "operator CPU s to settle", "operator CPU s total",
				"apiserver CPU s", "operator peak RSS MiB", "operator watches", "trigger informers"}}
		for _, c := range r.Cost {
			t.rows = append(t.rows, []string{
				fmt.Sprintf("%d x %d (+%d updates)", c.Workflows, c.ConfigMaps, c.Updates),
				sum(c.SettleSeconds, 1), sum(c.SettleCPUSeconds, 2), sum(c.CPUSeconds, 2), sum(c.APIServerCPUSeconds, 1),
				sum(c.PeakRSSMiB, 0), watches(c.Watches), sum(c.Informers, 0)})
		}
		out = append(out, t)
	}
	if len(r.Planner) > 0 {
		t := table{title: "4. Planner: BenchmarkPlan (random DAGs, up to 4 dependencies per step)",
			header: []string{"steps", "time per plan", "ns per step+edge", "bytes per plan", "allocs per plan"}}
		for _, p := range r.Planner {
			t.rows = append(t.rows, []string{fmt.Sprint(p.Steps), durations(p.NsPerOp),
				sum(p.NsPerStepEdge, 0), sum(p.BytesPerOp, 0), sum(p.AllocsPerOp, 0)})
		}
		out = append(out, t)
	}
	return append(out, compareTables(r.Compare)...)
}

// requestsTable lists the API requests per completed Workplan, the costliest
// (in API server time) first.
func requestsTable(reqs map[string]requestCost) table {
	t := table{title: "   API requests per completed Workplan (last run; all clients: operator, node simulator, load generator)",
		header: []string{"request", "count", "API server ms"}}
	keys := make([]string, 0, len(reqs))
	var total requestCost
	for k, v := range reqs {
		keys = append(keys, k)
		total.Count += v.Count
		total.ServerMs += v.ServerMs
	}
	slices.SortFunc(keys, func(a, b string) int {
		if d := reqs[b].ServerMs - reqs[a].ServerMs; d != 0 {
			if d > 0 {
				return 1
			}
			return -1
		}
		return strings.Compare(a, b)
	})
	var rest requestCost
	for _, k := range keys {
		if reqs[k].Count < 0.05 {
			rest.Count += reqs[k].Count
			rest.ServerMs += reqs[k].ServerMs
			continue
		}
		t.rows = append(t.rows, []string{k, fmt.Sprintf("%.2f", reqs[k].Count), fmt.Sprintf("%.1f", reqs[k].ServerMs)})
	}
	t.rows = append(t.rows,
		[]string{"others (the harness's polling, leader election, ...)", fmt.Sprintf("%.2f", rest.Count), fmt.Sprintf("%.1f", rest.ServerMs)},
		[]string{"all", fmt.Sprintf("%.2f", total.Count), fmt.Sprintf("%.1f", total.ServerMs)})
	return t
}

// sum formats a Summary as "median (min-max)", or the median alone for one
// run.
func sum(s Summary, prec int) string {
	if s.Runs == 0 {
		return "-"
	}
	f := func(v float64) string { return fmt.Sprintf("%.*f", prec, v) }
	if s.Runs == 1 || s.Min == s.Max {
		return f(s.Median)
	}
	return fmt.Sprintf("%s (%s-%s)", f(s.Median), f(s.Min), f(s.Max))
}

func pct(s Summary) string {
	return sum(Summary{Median: 100 * s.Median, Min: 100 * s.Min, Max: 100 * s.Max, Runs: s.Runs}, 1) + "%"
}

// durations formats a Summary of nanoseconds with a readable unit.
func durations(s Summary) string {
	unit, div := "ns", 1.0
	switch {
	case s.Median >= 1e6:
		unit, div = "ms", 1e6
	case s.Median >= 1e3:
		unit, div = "µs", 1e3
	}
	return sum(Summary{Median: s.Median / div, Min: s.Min / div, Max: s.Max / div, Runs: s.Runs}, 2) + " " + unit
}

// watches formats watch counts by resource: "5 (configmaps 1, pods 1, ...)".
func watches(w map[string]int) string {
	var total int
	var parts []string
	for res, n := range w {
		total += n
		parts = append(parts, fmt.Sprintf("%s %d", res, n))
	}
	slices.Sort(parts)
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}

// renderText lays the tables out for a terminal.
func renderText(r *Results) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "\nKube CI benchmarks, %s, commit %s, %d CPUs, load average at start %s, took %.0fs\n",
		r.Date.Format(time.RFC3339), r.Commit, r.Machine.CPUs, r.Machine.LoadAverage, r.DurationSeconds)
	fmt.Fprintf(&b, "median (min-max) of %s runs each; pods run by %s\n", r.Options["reps"], r.Simulator)
	for _, t := range tables(r) {
		fmt.Fprintf(&b, "\n%s\n", t.title)
		w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, strings.Join(t.header, "\t"))
		for _, row := range t.rows {
			fmt.Fprintln(w, strings.Join(row, "\t"))
		}
		_ = w.Flush()
	}
	return b.String()
}

// renderMarkdown lays the tables out for docs/performance.md.
func renderMarkdown(r *Results) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Measured %s at commit `%s` on %d CPUs (load average %s at the start; the machine is shared), "+
		"in %.0f s; each figure is the median (min-max) of %s runs.\n",
		r.Date.Format("2006-01-02 15:04 MST"), r.Commit, r.Machine.CPUs, r.Machine.LoadAverage, r.DurationSeconds, r.Options["reps"])
	for _, t := range tables(r) {
		fmt.Fprintf(&b, "\n**%s**\n\n", strings.TrimSpace(t.title))
		fmt.Fprintf(&b, "| %s |\n", strings.Join(t.header, " | "))
		fmt.Fprintf(&b, "|%s\n", strings.Repeat("---|", len(t.header)))
		for _, row := range t.rows {
			fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
		}
	}
	return b.String()
}

const (
	docBegin = "<!-- bench:begin -->"
	docEnd   = "<!-- bench:end -->"
)

// updateDoc replaces the text between the markers in path with text.
func updateDoc(path, text string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(data)
	i, j := strings.Index(s, docBegin), strings.Index(s, docEnd)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %s ... %s section for the figures", path, docBegin, docEnd)
	}
	s = s[:i+len(docBegin)] + "\n" + text + "\n" + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}
