package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// costCell is one cell of the cost matrix: Workflows Workflows watching the
// ConfigMaps of one namespace, each ConfigMap matched by exactly one Workflow
// (ConfigMap i by Workflow i mod Workflows, through a label selector).
type costCell struct {
	Workflows  int `json:"workflows"`
	ConfigMaps int `json:"configMaps"`
}

func (c costCell) String() string { return fmt.Sprintf("%dx%d", c.Workflows, c.ConfigMaps) }

// parseCells reads "10x10,100x1000" (Workflows x ConfigMaps).
func parseCells(s string) ([]costCell, error) {
	var out []costCell
	for _, part := range splitList(s) {
		var c costCell
		if _, err := fmt.Sscanf(part, "%dx%d", &c.Workflows, &c.ConfigMaps); err != nil || c.Workflows < 1 || c.ConfigMaps < 1 {
			return nil, fmt.Errorf("cost cell %q: want WORKFLOWSxCONFIGMAPS, for example 100x1000", part)
		}
		out = append(out, c)
	}
	return out, nil
}

// CostResult is what one cell cost the operator over repeated runs.
type CostResult struct {
	costCell
	// Updates is how many ConfigMap updates (each starting one run) followed
	// the start-up.
	Updates int `json:"updates"`
	// SettleSeconds: from starting the operator until every Workflow watches
	// and has recorded its ConfigMaps.
	SettleSeconds Summary `json:"settleSeconds"`
	// SettleCPUSeconds: the operator's CPU time until then; CPUSeconds: until
	// the updates' runs were created too.
	SettleCPUSeconds Summary `json:"settleCpuSeconds"`
	CPUSeconds       Summary `json:"cpuSeconds"`
	// APIServerCPUSeconds: kube-apiserver's CPU time over the same span.
	APIServerCPUSeconds Summary `json:"apiserverCpuSeconds"`
	// PeakRSSMiB is the operator's VmHWM at the end.
	PeakRSSMiB Summary `json:"peakRssMiB"`
	// Watches: WATCH requests the API server served for the operator
	// (all WATCH requests minus those before it started), by resource, from
	// the last run; Informers: kubeci_trigger_informers.
	Watches   map[string]int `json:"watches"`
	Informers Summary        `json:"informers"`
}

type costRun struct {
	settle, settleCPU, cpu, apiCPU, peakMiB, informers float64
	watches                                            map[string]int
}

// costGroup runs every cell reps times, one control plane per distinct
// ConfigMap count.
func (b *bench) costGroup(ctx context.Context) ([]CostResult, error) {
	cells := slices.Clone(b.opts.costCells)
	slices.SortStableFunc(cells, func(x, y costCell) int { return x.ConfigMaps - y.ConfigMaps })
	var out []CostResult
	for i := 0; i < len(cells); {
		cms := cells[i].ConfigMaps
		var same []costCell
		for ; i < len(cells) && cells[i].ConfigMaps == cms; i++ {
			same = append(same, cells[i])
		}
		res, err := withCluster(ctx, b, fmt.Sprintf("cost-%d", cms), func(ctx context.Context) ([]CostResult, error) {
			return b.costCells(ctx, cms, same)
		})
		out = append(out, res...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// costCells creates cms ConfigMaps, labelled for every cell's sharding, and
// runs the cells on them.
func (b *bench) costCells(ctx context.Context, cms int, cells []costCell) ([]CostResult, error) {
	c := b.cluster.client
	const cmNS = "watched"
	if err := b.cluster.namespace(ctx, cmNS); err != nil {
		return nil, err
	}
	start := time.Now()
	err := createAll(ctx, c, configMaps(cmNS, cms, func(i int) map[string]string {
		labels := map[string]string{}
		for _, cell := range cells {
			labels[shardLabel(cell)] = strconv.Itoa(i % cell.Workflows)
		}
		return labels
	}))
	if err != nil {
		return nil, err
	}
	b.logf("cost: created %d ConfigMaps in %.1fs", cms, time.Since(start).Seconds())
	var out []CostResult
	for _, cell := range cells {
		var runs []costRun
		for rep := range b.opts.reps {
			r, err := b.runCost(ctx, cell, cmNS, rep)
			if err != nil {
				return out, fmt.Errorf("cost %s: %w", cell, err)
			}
			b.logf("cost %s run %d: settled in %.1fs, operator CPU %.2fs (settle %.2fs), peak RSS %.0f MiB, watches %v, informers %.0f",
				cell, rep+1, r.settle, r.cpu, r.settleCPU, r.peakMiB, r.watches, r.informers)
			runs = append(runs, r)
		}
		out = append(out, CostResult{costCell: cell, Updates: b.opts.costUpdates,
			SettleSeconds:       summarize(pick(runs, func(r costRun) float64 { return r.settle })),
			SettleCPUSeconds:    summarize(pick(runs, func(r costRun) float64 { return r.settleCPU })),
			CPUSeconds:          summarize(pick(runs, func(r costRun) float64 { return r.cpu })),
			APIServerCPUSeconds: summarize(pick(runs, func(r costRun) float64 { return r.apiCPU })),
			PeakRSSMiB:          summarize(pick(runs, func(r costRun) float64 { return r.peakMiB })),
			Informers:           summarize(pick(runs, func(r costRun) float64 { return r.informers })),
			Watches:             runs[len(runs)-1].watches,
		})
	}
	return out, nil
}

func shardLabel(cell costCell) string { return "shard-of-" + strconv.Itoa(cell.Workflows) }

// runCost runs one cell once: creates its Workflows, starts a fresh operator,
// waits until every Workflow has recorded its ConfigMaps, makes the updates,
// waits for their runs, and reads what the operator spent.
func (b *bench) runCost(ctx context.Context, cell costCell, cmNS string, rep int) (costRun, error) {
	c := b.cluster.client
	ns := fmt.Sprintf("cost-%d-%d-%d", cell.Workflows, cell.ConfigMaps, rep)
	if err := b.cluster.namespace(ctx, ns); err != nil {
		return costRun{}, err
	}
	if err := b.cluster.grantConfigMaps(ctx, cmNS, ns); err != nil {
		return costRun{}, err
	}
	nextSecond()
	wfs := make([]*kubeciv1.Workflow, cell.Workflows)
	names := make([]string, cell.Workflows)
	for i := range wfs {
		names[i] = fmt.Sprintf("wf-%04d", i)
		wfs[i] = selectorWorkflow(b.designDoc, ns, names[i], cmNS, map[string]string{shardLabel(cell): strconv.Itoa(i)})
	}
	if err := createAll(ctx, c, wfs); err != nil {
		return costRun{}, err
	}
	before, err := b.cluster.watches(ctx)
	if err != nil {
		return costRun{}, err
	}
	api0, err := readUsage(b.cluster.apiserverPID)
	if err != nil {
		return costRun{}, err
	}

	start := time.Now()
	op, err := startOperator(ctx, b.operatorBinary, b.cluster.kubeconfig, b.opts.logDir, fmt.Sprintf("cost-%s-%d", cell, rep))
	if err != nil {
		return costRun{}, err
	}
	defer op.stop()
	if b.opts.profileDir != "" {
		go func() {
			path := filepath.Join(b.opts.profileDir, fmt.Sprintf("cost-%s-cpu-%d.pprof", cell, rep+1))
			if err := op.profile(ctx, fmt.Sprintf("profile?seconds=%d", b.opts.profileSeconds), path); err != nil {
				b.logf("profiling: %v", err)
			}
		}()
	}
	if err := waitWatching(ctx, c, ns, cell.ConfigMaps, 5*time.Minute); err != nil {
		return costRun{}, err
	}
	var res costRun
	res.settle = time.Since(start).Seconds()
	u, err := op.usage()
	if err != nil {
		return costRun{}, err
	}
	res.settleCPU = u.CPU
	after, err := b.cluster.watches(ctx)
	if err != nil {
		return costRun{}, err
	}
	res.watches = map[string]int{}
	for r, n := range after {
		if d := n - before[r]; d > 0 {
			res.watches[r] = d
		}
	}
	if res.informers, err = op.gauge("kubeci_trigger_informers"); err != nil {
		return costRun{}, err
	}

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	runs, err := watchRuns(watchCtx, c, ns)
	if err != nil {
		return costRun{}, err
	}
	updates, err := updateAtRate(ctx, b, cmNS, latencyCase{ConfigMaps: cell.ConfigMaps, Rate: 50},
		time.Duration(b.opts.costUpdates)*time.Second/50)
	if err != nil {
		return costRun{}, err
	}
	err = poll(ctx, 200*time.Millisecond, 2*time.Minute, "the updates' runs", func() (bool, error) {
		return answered(updates, runs.snapshot()), nil
	})
	if err != nil {
		return costRun{}, fmt.Errorf("%w: %d updates, %d runs seen; operator: %s", err, len(updates), runs.count(), op.triggerCounters())
	}
	if u, err = op.usage(); err != nil {
		return costRun{}, err
	}
	res.cpu, res.peakMiB = u.CPU, float64(u.PeakRSS)/(1<<20)
	api1, err := readUsage(b.cluster.apiserverPID)
	if err != nil {
		return costRun{}, err
	}
	res.apiCPU = api1.CPU - api0.CPU
	if b.opts.profileDir != "" {
		_ = op.profile(ctx, "heap", filepath.Join(b.opts.profileDir, fmt.Sprintf("cost-%s-heap-%d.pprof", cell, rep+1)))
		// The same as text, with the runtime's memory statistics.
		_ = op.profile(ctx, "heap?debug=1", filepath.Join(b.opts.profileDir, fmt.Sprintf("cost-%s-heap-%d.txt", cell, rep+1)))
	}
	if err := op.stop(); err != nil {
		return res, err
	}
	return res, emptyNamespace(ctx, c, ns)
}

// answered reports whether the last update of each ConfigMap has a run whose
// trigger resourceVersion is the update's or later.
func answered(updates []update, runs []run) bool {
	last := map[string]int64{}
	for _, u := range updates {
		last[u.cm] = max(last[u.cm], u.rv)
	}
	for _, r := range runs {
		if rv, ok := last[r.Trigger]; ok && r.TriggerRV >= rv {
			delete(last, r.Trigger)
		}
	}
	return len(last) == 0
}
