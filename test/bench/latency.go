package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// latencyCase is one load of the trigger latency benchmark: Workflows
// Workflows, each matching every one of ConfigMaps ConfigMaps, which are
// updated Rate times per second in turn for the run's duration.
type latencyCase struct {
	Workflows  int `json:"workflows"`
	ConfigMaps int `json:"configMaps"`
	Rate       int `json:"updatesPerSecond"`
}

func (lc latencyCase) String() string {
	wf := "1 Workflow"
	if lc.Workflows > 1 {
		wf = fmt.Sprintf("%d Workflows", lc.Workflows)
	}
	return fmt.Sprintf("%d updates/s, %s", lc.Rate, wf)
}

// LatencyResult is the trigger latency of one case over repeated runs.
type LatencyResult struct {
	latencyCase
	// MedianMs and P99Ms: ConfigMap update to Workplan created, in ms, from
	// just before the update request to the harness's watch seeing the
	// Workplan.
	MedianMs Summary `json:"medianMs"`
	P99Ms    Summary `json:"p99Ms"`
	// Updates per run, and the share of (update, Workflow) pairs answered by a
	// Workplan for a later update of the same ConfigMap (changes arriving
	// faster than the Workflow decides are decided together).
	Updates   Summary `json:"updates"`
	Coalesced Summary `json:"coalescedShare"`
	// Missing counts pairs never answered within the wait (should be 0).
	Missing Summary `json:"missing"`
	// AchievedRate is the update rate the harness managed.
	AchievedRate Summary `json:"achievedUpdatesPerSecond"`
	// CPUShare of each process, of the machine's CPU time while the harness
	// updated ConfigMaps ("machine": every process).
	CPUShare map[string]Summary `json:"cpuShare"`
	// WorkflowKiB is the size of one Workflow as stored (JSON, with managed
	// fields) once it has recorded its ConfigMaps: every decision rewrites it.
	WorkflowKiB float64 `json:"workflowKiB"`
}

type latencyRun struct {
	median, p99, coalesced, achieved float64
	updates, missing                 int
	cpu                              CPUShares
	workflowKiB                      float64
}

// update is one ConfigMap change the harness made.
type update struct {
	cm string
	rv int64
	at time.Time
}

// runLatency runs one case once in namespace ns: creates the ConfigMaps and
// Workflows, waits until they watch, then updates ConfigMaps at the case's
// rate for d and waits for the Workplans.
func (b *bench) runLatency(ctx context.Context, lc latencyCase, ns string, d time.Duration) (latencyRun, error) {
	c := b.cluster.client
	var names []string
	for i := range lc.Workflows {
		names = append(names, fmt.Sprintf("wf-%03d", i))
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	runs, err := b.setUpWorkload(ctx, watchCtx, ns, "latency", lc.ConfigMaps, names)
	if err != nil {
		return latencyRun{}, err
	}
	raw, err := b.cluster.kube.Discovery().RESTClient().Get().
		AbsPath("/apis", kubeciv1.GroupVersion.Group, kubeciv1.GroupVersion.Version, "namespaces", ns, "workflows", names[0]).DoRaw(ctx)
	if err != nil {
		return latencyRun{}, err
	}

	if b.opts.profileDir != "" {
		go func() {
			path := filepath.Join(b.opts.profileDir, fmt.Sprintf("%s-cpu.pprof", ns))
			if err := b.operator.profile(ctx, fmt.Sprintf("profile?seconds=%d", int(d.Seconds())), path); err != nil {
				b.logf("profiling: %v", err)
			}
		}()
		go func() {
			path := filepath.Join(b.opts.profileDir, fmt.Sprintf("%s-apiserver-cpu.pprof", ns))
			if err := b.cluster.profile(ctx, int(d.Seconds()), path); err != nil {
				b.logf("profiling: %v", err)
			}
		}()
	}
	req0, err := b.cluster.requests(ctx)
	if err != nil {
		return latencyRun{}, err
	}
	rec0, err := b.operator.gauge("controller_runtime_reconcile_total")
	if err != nil {
		return latencyRun{}, err
	}
	meter, err := startCPUMeter(b.pids())
	if err != nil {
		return latencyRun{}, err
	}
	updates, err := updateAtRate(ctx, b, ns, lc, d)
	if err != nil {
		return latencyRun{}, err
	}
	cpu, err := meter.stop()
	if err != nil {
		return latencyRun{}, err
	}
	// Wait for every (update, Workflow) pair to be answered.
	var res latencyRun
	_ = poll(ctx, 200*time.Millisecond, 60*time.Second, "every update to start its runs", func() (bool, error) {
		res = latencies(updates, runs.snapshot(), names)
		return res.missing == 0, nil
	})
	req1, err := b.cluster.requests(ctx)
	if err != nil {
		return latencyRun{}, err
	}
	rec1, err := b.operator.gauge("controller_runtime_reconcile_total")
	if err != nil {
		return latencyRun{}, err
	}
	var reqs []string
	for k, v := range req1 {
		if n := v - req0[k]; n >= float64(len(updates))/10 && !strings.HasPrefix(k, "seconds ") {
			reqs = append(reqs, fmt.Sprintf("%s %.0f (%.1f ms)", k, n, 1000*(req1["seconds "+k]-req0["seconds "+k])/n))
		}
	}
	slices.Sort(reqs)
	b.logf("latency %s: %.0f reconciles; API requests: %s", lc, rec1-rec0, strings.Join(reqs, ", "))
	res.achieved = float64(len(updates)) / d.Seconds()
	res.cpu = cpu
	res.workflowKiB = float64(len(raw)) / 1024
	// The runs stay: their pods wait for a node that never comes, which
	// costs nothing, whereas deleting thousands of runs would keep the
	// operator busy into the next run. The next case gets a new cluster.
	return res, c.DeleteAllOf(ctx, &kubeciv1.Workflow{}, client.InNamespace(ns))
}

// updateAtRate updates the case's ConfigMaps in turn, lc.Rate per second for d,
// each request started on schedule whether or not earlier ones returned.
func updateAtRate(ctx context.Context, b *bench, ns string, lc latencyCase, d time.Duration) ([]update, error) {
	var (
		mu      sync.Mutex
		updates []update
		first   error
		wg      sync.WaitGroup
	)
	interval := time.Second / time.Duration(lc.Rate)
	start := time.Now()
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if due.Sub(start) >= d {
			break
		}
		time.Sleep(time.Until(due))
		wg.Go(func() {
			name := cmName(i % lc.ConfigMaps)
			at := time.Now()
			rv, err := touch(ctx, b.cluster.client, ns, name, i+1)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = err
				}
				return
			}
			updates = append(updates, update{cm: name, rv: rv, at: at})
		})
	}
	wg.Wait()
	return updates, first
}

// latencies pairs each update with the first run of each Workflow that
// answers it: a run for the same ConfigMap whose trigger resourceVersion is
// the update's or a later one.
func latencies(updates []update, runs []run, workflows []string) latencyRun {
	type key struct{ workflow, cm string }
	byKey := map[key][]run{}
	for _, r := range runs {
		k := key{r.Workflow, r.Trigger}
		byKey[k] = append(byKey[k], r)
	}
	for _, rs := range byKey {
		slices.SortFunc(rs, func(a, b run) int { return a.Seen.Compare(b.Seen) })
	}
	var lat []time.Duration
	var res latencyRun
	coalesced := 0
	for _, u := range updates {
		for _, wf := range workflows {
			answered := false
			for _, r := range byKey[key{wf, u.cm}] {
				if r.TriggerRV >= u.rv {
					lat = append(lat, r.Seen.Sub(u.at))
					if r.TriggerRV != u.rv {
						coalesced++
					}
					answered = true
					break
				}
			}
			if !answered {
				res.missing++
			}
		}
	}
	res.updates = len(updates)
	ms := millis(lat)
	res.median, res.p99 = percentile(ms, 50), percentile(ms, 99)
	if len(lat) > 0 {
		res.coalesced = float64(coalesced) / float64(len(lat))
	}
	return res
}

// latencyGroup runs every latency case reps times, each case on a new
// control plane and operator.
func (b *bench) latencyGroup(ctx context.Context) ([]LatencyResult, error) {
	var out []LatencyResult
	for _, lc := range b.opts.latencyCases {
		label := fmt.Sprintf("latency-%d-%d", lc.Rate, lc.Workflows)
		runs, err := withCluster(ctx, b, label, func(ctx context.Context) ([]latencyRun, error) {
			if err := b.startOperator(ctx, label); err != nil {
				return nil, err
			}
			return b.latencyRuns(ctx, lc)
		})
		if err != nil {
			return out, err
		}
		shares := map[string]Summary{}
		for _, name := range append(processNames, "machine") {
			shares[name] = summarize(pick(runs, func(r latencyRun) float64 { return cpuOf(r.cpu, name) / r.cpu.MachineTotal }))
		}
		out = append(out, LatencyResult{latencyCase: lc, CPUShare: shares, WorkflowKiB: runs[len(runs)-1].workflowKiB,
			MedianMs:     summarize(pick(runs, func(r latencyRun) float64 { return r.median })),
			P99Ms:        summarize(pick(runs, func(r latencyRun) float64 { return r.p99 })),
			Updates:      summarize(pick(runs, func(r latencyRun) float64 { return float64(r.updates) })),
			Coalesced:    summarize(pick(runs, func(r latencyRun) float64 { return r.coalesced })),
			Missing:      summarize(pick(runs, func(r latencyRun) float64 { return float64(r.missing) })),
			AchievedRate: summarize(pick(runs, func(r latencyRun) float64 { return r.achieved })),
		})
	}
	return out, nil
}

// latencyRuns runs one case reps times.
func (b *bench) latencyRuns(ctx context.Context, lc latencyCase) ([]latencyRun, error) {
	var runs []latencyRun
	for rep := range b.opts.reps {
		ns := fmt.Sprintf("latency-%d-%d-%d", lc.Rate, lc.Workflows, rep)
		r, err := b.runLatency(ctx, lc, ns, b.opts.latencyDuration)
		if err != nil {
			return runs, fmt.Errorf("trigger latency, %s: %w", lc, err)
		}
		b.logf("latency %s run %d: median %.1f ms, p99 %.1f ms, %d updates (%.0f/s), %.0f%% coalesced, %d missing; CPU s: %s",
			lc, rep+1, r.median, r.p99, r.updates, r.achieved, 100*r.coalesced, r.missing, formatSeconds(r.cpu))
		runs = append(runs, r)
	}
	return runs, nil
}
