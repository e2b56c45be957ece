package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// ThroughputResult is the design doc's Workflow run as often as possible.
type ThroughputResult struct {
	// WindowSeconds is how long each run lasted, InFlight how many Workplans
	// the harness kept started but unfinished.
	WindowSeconds float64 `json:"windowSeconds"`
	InFlight      int     `json:"inFlight"`
	StepSeconds   float64 `json:"stepSeconds"`
	// PerMinute: Workplans that reached Completed in the window, per minute.
	PerMinute Summary `json:"completedPerMinute"`
	// Failed: Workplans that reached Failed in the window (should be 0).
	Failed Summary `json:"failed"`
	// RunSeconds: median time from a Workplan's creation to its completion.
	RunSeconds Summary `json:"runSecondsMedian"`
	// CPUSeconds and CPUShare of each process over the window; the share is of
	// the machine's CPU time (cores times the window). "machine" is every
	// process of the machine, other users of this shared machine included.
	CPUSeconds map[string]Summary `json:"cpuSeconds"`
	CPUShare   map[string]Summary `json:"cpuShare"`
	// SimulatorWrites: API writes the node simulator made per Workplan.
	SimulatorWrites Summary `json:"simulatorWritesPerWorkplan"`
	// Requests: API requests per completed Workplan in the last run, by
	// "VERB resource[/subresource]", with the API server's time.
	Requests map[string]requestCost `json:"requestsPerWorkplan"`
}

type throughputRun struct {
	perMinute, failed, runSeconds, simWrites float64
	cpu                                      CPUShares
	// requests: API requests per completed Workplan, by "VERB resource",
	// and the API server's time serving them.
	requests map[string]requestCost
}

// requestCost is what one kind of API request cost per completed Workplan.
type requestCost struct {
	Count float64 `json:"count"`
	// ServerMs is the API server's time serving them (its
	// apiserver_request_duration_seconds), in ms.
	ServerMs float64 `json:"serverMs"`
}

// requestsPer divides the requests served between two scrapes by n.
func requestsPer(before, after map[string]float64, n float64) map[string]requestCost {
	out := map[string]requestCost{}
	for k, v := range after {
		if strings.HasPrefix(k, "seconds ") || strings.HasPrefix(k, "WATCH ") || strings.HasPrefix(k, "CONNECT ") {
			continue // long-running requests: their time is not work
		}
		if d := v - before[k]; d > 0 {
			out[k] = requestCost{Count: d / n, ServerMs: 1000 * (after["seconds "+k] - before["seconds "+k]) / n}
		}
	}
	return out
}

// runThroughput keeps inFlight Workplans of the design doc's Workflow going
// for window, and measures how many complete and what they cost.
func (b *bench) runThroughput(ctx context.Context, ns string, window time.Duration, inFlight int, profile string) (throughputRun, error) {
	c := b.cluster.client
	setup := time.Now()
	// Twice as many ConfigMaps as runs in flight: each has at most one
	// update waiting for its run, so no two changes are decided together.
	pool := newConfigMapPool(2*inFlight, inFlight)
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	runs, err := b.setUpWorkload(ctx, watchCtx, ns, "throughput", pool.size, []string{"design-doc"})
	if err != nil {
		return throughputRun{}, err
	}
	runs.onFinish(func(r *run) { pool.release(r.Trigger) })
	b.logf("throughput %s: set up in %.1fs", ns, time.Since(setup).Seconds())

	req0, err := b.cluster.requests(ctx)
	if err != nil {
		return throughputRun{}, err
	}
	meter, err := startCPUMeter(b.pids())
	if err != nil {
		return throughputRun{}, err
	}
	writes0 := b.sim.writes.Load()
	end := time.Now().Add(window)
	if profile != "" {
		go func() {
			if err := b.operator.profile(ctx, fmt.Sprintf("profile?seconds=%d", min(int(window.Seconds()), b.opts.profileSeconds)), profile); err != nil {
				b.logf("profiling: %v", err)
			}
		}()
	}
	for started := 1; time.Now().Before(end); {
		name := pool.take()
		if name == "" {
			pool.waitFree(end)
			continue
		}
		if _, err := touch(ctx, c, ns, name, started); err != nil {
			return throughputRun{}, err
		}
		started++
	}
	cpu, err := meter.stop()
	if err != nil {
		return throughputRun{}, err
	}
	writes := b.sim.writes.Load() - writes0
	req1, err := b.cluster.requests(ctx)
	if err != nil {
		return throughputRun{}, err
	}

	res, completed := tallyRuns(runs.snapshot(), end, window)
	res.cpu = cpu
	if completed > 0 {
		res.simWrites = float64(writes) / float64(completed)
		res.requests = requestsPer(req0, req1, float64(completed))
	}
	// The runs in flight finish (and the operator prunes them, keeping the
	// Workflow's history) before the next run starts.
	tail := time.Now()
	err = poll(ctx, 100*time.Millisecond, time.Minute, "the runs in flight to finish", func() (bool, error) {
		return pool.idle(), nil
	})
	b.logf("throughput %s: the runs in flight finished in %.1fs", ns, time.Since(tail).Seconds())
	if err == nil {
		err = c.DeleteAllOf(ctx, &kubeciv1.Workflow{}, client.InNamespace(ns))
	}
	return res, err
}

// tallyRuns counts the runs that ended by end: completed and failed ones,
// completions per minute of window and the median run time.
func tallyRuns(runs []run, end time.Time, window time.Duration) (res throughputRun, completed int) {
	var durations []float64
	for _, r := range runs {
		if r.Finished.IsZero() || r.Finished.After(end) {
			continue
		}
		switch r.Phase {
		case kubeciv1.WorkplanCompleted:
			completed++
			durations = append(durations, r.Finished.Sub(r.Seen).Seconds())
		case kubeciv1.WorkplanFailed:
			res.failed++
		}
	}
	res.perMinute = float64(completed) / window.Minutes()
	res.runSeconds = percentile(durations, 50)
	return res, completed
}

// configMapPool hands out the throughput ConfigMaps round robin, each to one
// run at a time: a ConfigMap is busy from its update until its run finishes,
// and at most limit are busy at once.
type configMapPool struct {
	size, limit int

	mu       sync.Mutex
	busy     map[string]bool
	next     int
	finished chan struct{}
}

func newConfigMapPool(size, limit int) *configMapPool {
	return &configMapPool{size: size, limit: limit, busy: map[string]bool{}, finished: make(chan struct{}, size)}
}

// take marks the next free ConfigMap busy and returns its name, or "" when
// limit are busy or none is free.
func (p *configMapPool) take() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.busy) >= p.limit {
		return ""
	}
	for i := range p.size {
		if name := cmName((p.next + i) % p.size); !p.busy[name] {
			p.next = (p.next + i + 1) % p.size
			p.busy[name] = true
			return name
		}
	}
	return ""
}

// release frees the ConfigMap whose run finished.
func (p *configMapPool) release(name string) {
	p.mu.Lock()
	delete(p.busy, name)
	p.mu.Unlock()
	select {
	case p.finished <- struct{}{}:
	default:
	}
}

// waitFree waits until a run finishes or until end.
func (p *configMapPool) waitFree(end time.Time) {
	select {
	case <-p.finished:
	case <-time.After(time.Until(end)):
	}
}

// idle reports whether no ConfigMap is busy.
func (p *configMapPool) idle() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.busy) == 0
}

// throughputGroup runs the throughput benchmark reps times.
func (b *bench) throughputGroup(ctx context.Context) (*ThroughputResult, error) {
	var runs []throughputRun
	for rep := range b.opts.reps {
		profile := ""
		if b.opts.profileDir != "" {
			profile = filepath.Join(b.opts.profileDir, fmt.Sprintf("throughput-cpu-%d.pprof", rep+1))
		}
		r, err := b.runThroughput(ctx, fmt.Sprintf("throughput-%d", rep), b.opts.throughputWindow, b.opts.inFlight, profile)
		if err != nil {
			return nil, fmt.Errorf("throughput: %w", err)
		}
		b.logf("throughput run %d: %.1f Workplans/min completed, %.0f failed, run %.2fs median; CPU s: %s",
			rep+1, r.perMinute, r.failed, r.runSeconds, formatSeconds(r.cpu))
		runs = append(runs, r)
	}
	res := &ThroughputResult{
		WindowSeconds:   b.opts.throughputWindow.Seconds(),
		InFlight:        b.opts.inFlight,
		StepSeconds:     b.opts.stepDuration.Seconds(),
		PerMinute:       summarize(pick(runs, func(r throughputRun) float64 { return r.perMinute })),
		Failed:          summarize(pick(runs, func(r throughputRun) float64 { return r.failed })),
		RunSeconds:      summarize(pick(runs, func(r throughputRun) float64 { return r.runSeconds })),
		SimulatorWrites: summarize(pick(runs, func(r throughputRun) float64 { return r.simWrites })),
		CPUSeconds:      map[string]Summary{},
		Requests:        runs[len(runs)-1].requests,
		CPUShare:        map[string]Summary{},
	}
	for _, name := range append(processNames, "machine") {
		res.CPUSeconds[name] = summarize(pick(runs, func(r throughputRun) float64 { return cpuOf(r.cpu, name) }))
		res.CPUShare[name] = summarize(pick(runs, func(r throughputRun) float64 { return cpuOf(r.cpu, name) / r.cpu.MachineTotal }))
	}
	return res, nil
}

// processNames are the processes whose CPU time is measured.
var processNames = []string{"kube-apiserver", "etcd", "operator", "harness"}

func cpuOf(s CPUShares, name string) float64 {
	if name == "machine" {
		return s.MachineBusy
	}
	return s.Seconds[name]
}

func formatSeconds(s CPUShares) string {
	out := ""
	for _, name := range append(processNames, "machine") {
		out += fmt.Sprintf("%s %.1f ", name, cpuOf(s, name))
	}
	return out + fmt.Sprintf("of %.0f", s.MachineTotal)
}
