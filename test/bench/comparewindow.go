package main

import (
	"context"
	"time"
)

// measureWindow submits runs for window, keeping as many in flight as t
// allows: the runs that finished in the window give the runs per minute and
// the times. Then it waits until every run submitted has finished, and
// divides the API requests and the CPU time from the first submit to the
// last finish by the runs submitted: what a run costs, without counting the
// work of runs left unfinished (which would favour the engine with the
// shorter runs).
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
	err = poll(ctx, 50*time.Millisecond, 3*time.Minute, "the runs in flight to finish", func() (bool, error) {
		return t.inFlight() == 0, nil
	})
	if err != nil {
		return compareRun{}, err
	}
	cpu, err := meter.stop()
	if err != nil {
		return compareRun{}, err
	}
	req1, err := b.cluster.requests(ctx)
	if err != nil {
		return compareRun{}, err
	}
	all := t.runs()
	res := tallyCompare(all, start, end)
	res.ctrlCPU = cpu.Seconds["operator"]
	if u, err := b.operator.usage(); err == nil {
		res.ctrlPeakMiB = float64(u.PeakRSS) / (1 << 20)
	}
	submitted := 0
	for _, r := range all {
		if !r.Submitted.Before(start) {
			submitted++
		}
	}
	if n := float64(submitted); n > 0 {
		res.requests = requestsPer(req0, req1, n)
		for _, r := range res.requests {
			res.requestsPerRun += r.Count
		}
		res.apiserverCPU = cpu.Seconds["kube-apiserver"] / n
		res.ctrlCPUPerRun = res.ctrlCPU / n
	}
	return res, nil
}
