package main

import (
	"context"
	"time"
)

// measureWindow submits runs for window, keeping as many in flight as t
// allows, and measures what the runs that finished in it cost: API requests
// and kube-apiserver CPU per completed run, and the controller's (b.operator)
// CPU time and peak memory.
func (b *bench) measureWindow(ctx context.Context, t *runTracker, window time.Duration, submit func(i int) error) (compareRun, error) {
	req0, err := b.cluster.requests(ctx)
	if err != nil {
		return compareRun{}, err
	}
	meter, err := startCPUMeter(b.pids())
	if err != nil {
		return compareRun{}, err
	}
	start := time.Now()
	end := start.Add(window)
	for i := 1; t.acquire(ctx, end); i++ {
		if err := submit(i); err != nil {
			return compareRun{}, err
		}
	}
	if ctx.Err() != nil {
		return compareRun{}, ctx.Err()
	}
	cpu, err := meter.stop()
	if err != nil {
		return compareRun{}, err
	}
	req1, err := b.cluster.requests(ctx)
	if err != nil {
		return compareRun{}, err
	}
	res := tallyCompare(t.runs(), start, end)
	res.ctrlCPU = cpu.Seconds["operator"]
	if u, err := b.operator.usage(); err == nil {
		res.ctrlPeakMiB = float64(u.PeakRSS) / (1 << 20)
	}
	if n := float64(res.completed); n > 0 {
		res.requests = requestsPer(req0, req1, n)
		for _, r := range res.requests {
			res.requestsPerRun += r.Count
		}
		res.apiserverCPU = cpu.Seconds["kube-apiserver"] / n
		res.ctrlCPUPerRun = res.ctrlCPU / n
	}
	return res, nil
}
