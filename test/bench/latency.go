package main

import (
	"context"
	"encoding/json"
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

// label names the case in namespaces and logs.
func (lc latencyCase) label() string {
	return fmt.Sprintf("latency-%d-%d-%d", lc.Rate, lc.Workflows, lc.ConfigMaps)
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
	// APIServerMsPerUpdate and OperatorMsPerUpdate: the CPU time
	// kube-apiserver and the operator spent from the first update until every
	// update was answered, per update (CPU time, unlike latency, does not
	// grow when other work on the machine competes for the cores).
	APIServerMsPerUpdate Summary `json:"apiserverCpuMsPerUpdate"`
	OperatorMsPerUpdate  Summary `json:"operatorCpuMsPerUpdate"`
	// AchievedRate is the update rate the harness managed.
	AchievedRate Summary `json:"achievedUpdatesPerSecond"`
	// CPUShare of each process, of the machine's CPU time while the harness
	// updated ConfigMaps ("machine": every process).
	CPUShare map[string]Summary `json:"cpuShare"`
	// WorkflowKiB is the size of one Workflow as stored (JSON, with managed
	// fields) once it has recorded its ConfigMaps: every decision that
	// writes its status makes the API server rewrite it whole.
	WorkflowKiB float64 `json:"workflowKiB"`
	// Shards is the number of TriggerRecord shards of that Workflow's record,
	// and ShardKiB the size of the largest as stored: a decision rewrites
	// the shards of the objects it changed.
	Shards   int     `json:"recordShards"`
	ShardKiB float64 `json:"largestShardKiB"`
	// PeakRSSMiB is the operator's VmHWM after each run (the operator runs
	// every repetition of the case).
	PeakRSSMiB Summary `json:"operatorPeakRssMiB"`
}

type latencyRun struct {
	median, p99, coalesced, achieved float64
	updates, missing                 int
	cpu                              CPUShares
	apiMsPerUpdate, opMsPerUpdate    float64
	workflowKiB, shardKiB, peakMiB   float64
	shards                           int
}

// update is one ConfigMap change the harness made.
type update struct {
	cm string
	rv int64
	at time.Time
}

// latencyLabels label the ConfigMaps of the latency cases.
var latencyLabels = map[string]string{"bench": "latency"}

// createLatencyConfigMaps creates the case's ConfigMaps, once for all its
// runs, in namespace cmNS.
func (b *bench) createLatencyConfigMaps(ctx context.Context, lc latencyCase, cmNS string) error {
	if err := b.cluster.namespace(ctx, cmNS); err != nil {
		return err
	}
	start := time.Now()
	err := createAll(ctx, b.cluster.client, configMaps(cmNS, lc.ConfigMaps, func(int) map[string]string { return latencyLabels }))
	if err != nil {
		return err
	}
	b.logf("%s: created %d ConfigMaps in %.1fs", lc.label(), lc.ConfigMaps, time.Since(start).Seconds())
	return nil
}

// runLatency runs one case once in namespace ns: creates the Workflows
// selecting the ConfigMaps of cmNS, waits until they watch and have recorded
// them, then updates ConfigMaps at the case's rate for d and waits for the
// Workplans.
func (b *bench) runLatency(ctx context.Context, lc latencyCase, ns, cmNS string, d time.Duration) (latencyRun, error) {
	c := b.cluster.client
	var names []string
	for i := range lc.Workflows {
		names = append(names, fmt.Sprintf("wf-%03d", i))
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if err := b.cluster.namespace(ctx, ns); err != nil {
		return latencyRun{}, err
	}
	if err := b.cluster.grantConfigMaps(ctx, cmNS, ns); err != nil {
		return latencyRun{}, err
	}
	nextSecond()
	var wfs []*kubeciv1.Workflow
	for _, name := range names {
		wfs = append(wfs, selectorWorkflow(b.designDoc, ns, name, cmNS, latencyLabels))
	}
	start := time.Now()
	if err := createAll(ctx, c, wfs); err != nil {
		return latencyRun{}, err
	}
	// The first decision over 100,000 objects writes hundreds of shards.
	settle := 2*time.Minute + time.Duration(lc.Workflows*lc.ConfigMaps)*time.Millisecond
	if err := waitWatching(ctx, c, ns, len(names)*lc.ConfigMaps, settle); err != nil {
		return latencyRun{}, err
	}
	b.logf("%s: %d Workflows recorded %d ConfigMaps each in %.1fs", lc.label(), len(names), lc.ConfigMaps, time.Since(start).Seconds())
	runs, err := watchRuns(watchCtx, c, ns)
	if err != nil {
		return latencyRun{}, err
	}
	var res latencyRun
	if res.workflowKiB, res.shards, res.shardKiB, err = b.recordSizes(ctx, ns, names[0]); err != nil {
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
	api0, err := readUsage(b.cluster.apiserverPID)
	if err != nil {
		return latencyRun{}, err
	}
	op0, err := b.operator.usage()
	if err != nil {
		return latencyRun{}, err
	}
	meter, err := startCPUMeter(b.pids())
	if err != nil {
		return latencyRun{}, err
	}
	updates, err := updateAtRate(ctx, b, cmNS, lc, d)
	if err != nil {
		return latencyRun{}, err
	}
	cpu, err := meter.stop()
	if err != nil {
		return latencyRun{}, err
	}
	// Wait for every (update, Workflow) pair to be answered.
	sizes := res
	_ = poll(ctx, 200*time.Millisecond, 60*time.Second, "every update to start its runs", func() (bool, error) {
		res = latencies(updates, runs.snapshot(), names)
		return res.missing == 0, nil
	})
	api1, err := readUsage(b.cluster.apiserverPID)
	if err != nil {
		return latencyRun{}, err
	}
	op1, err := b.operator.usage()
	if err != nil {
		return latencyRun{}, err
	}
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
	b.logf("latency %s, %d ConfigMaps: %.0f reconciles; API requests: %s", lc, lc.ConfigMaps, rec1-rec0, strings.Join(reqs, ", "))
	res.achieved = float64(len(updates)) / d.Seconds()
	if len(updates) > 0 {
		res.apiMsPerUpdate = 1000 * (api1.CPU - api0.CPU) / float64(len(updates))
		res.opMsPerUpdate = 1000 * (op1.CPU - op0.CPU) / float64(len(updates))
	}
	res.cpu = cpu
	res.workflowKiB, res.shards, res.shardKiB = sizes.workflowKiB, sizes.shards, sizes.shardKiB
	u, err := b.operator.usage()
	if err != nil {
		return latencyRun{}, err
	}
	res.peakMiB = float64(u.PeakRSS) / (1 << 20)
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
		label := lc.label()
		runs, err := withCluster(ctx, b, label, func(ctx context.Context) ([]latencyRun, error) {
			if err := b.createLatencyConfigMaps(ctx, lc, label); err != nil {
				return nil, err
			}
			if err := b.startOperator(ctx, label); err != nil {
				return nil, err
			}
			return b.latencyRuns(ctx, lc, label)
		})
		if err != nil {
			return out, err
		}
		shares := map[string]Summary{}
		for _, name := range append(processNames, "machine") {
			shares[name] = summarize(pick(runs, func(r latencyRun) float64 { return cpuOf(r.cpu, name) / r.cpu.MachineTotal }))
		}
		last := runs[len(runs)-1]
		out = append(out, LatencyResult{latencyCase: lc, CPUShare: shares,
			WorkflowKiB: last.workflowKiB, Shards: last.shards, ShardKiB: last.shardKiB,
			PeakRSSMiB:           summarize(pick(runs, func(r latencyRun) float64 { return r.peakMiB })),
			MedianMs:             summarize(pick(runs, func(r latencyRun) float64 { return r.median })),
			P99Ms:                summarize(pick(runs, func(r latencyRun) float64 { return r.p99 })),
			Updates:              summarize(pick(runs, func(r latencyRun) float64 { return float64(r.updates) })),
			Coalesced:            summarize(pick(runs, func(r latencyRun) float64 { return r.coalesced })),
			Missing:              summarize(pick(runs, func(r latencyRun) float64 { return float64(r.missing) })),
			AchievedRate:         summarize(pick(runs, func(r latencyRun) float64 { return r.achieved })),
			APIServerMsPerUpdate: summarize(pick(runs, func(r latencyRun) float64 { return r.apiMsPerUpdate })),
			OperatorMsPerUpdate:  summarize(pick(runs, func(r latencyRun) float64 { return r.opMsPerUpdate })),
		})
	}
	return out, nil
}

// latencyRuns runs one case reps times over the ConfigMaps of cmNS.
func (b *bench) latencyRuns(ctx context.Context, lc latencyCase, cmNS string) ([]latencyRun, error) {
	var runs []latencyRun
	for rep := range b.opts.reps {
		ns := fmt.Sprintf("%s-%d", lc.label(), rep)
		r, err := b.runLatency(ctx, lc, ns, cmNS, b.opts.latencyDuration)
		if err != nil {
			return runs, fmt.Errorf("trigger latency, %s: %w", lc, err)
		}
		b.logf("latency %s, %d ConfigMaps, run %d: median %.1f ms, p99 %.1f ms, %d updates (%.0f/s), %.0f%% coalesced, %d missing; "+
			"Workflow %.0f KiB, %d shards (largest %.0f KiB); operator peak RSS %.0f MiB; CPU s: %s",
			lc, lc.ConfigMaps, rep+1, r.median, r.p99, r.updates, r.achieved, 100*r.coalesced, r.missing,
			r.workflowKiB, r.shards, r.shardKiB, r.peakMiB, formatSeconds(r.cpu))
		runs = append(runs, r)
	}
	return runs, nil
}

// recordSizes reads the size of Workflow ns/name as stored (JSON, managed
// fields included), its record's shard count and the size of its largest
// shard, in KiB.
func (b *bench) recordSizes(ctx context.Context, ns, name string) (workflowKiB float64, shards int, shardKiB float64, err error) {
	rest := b.cluster.kube.Discovery().RESTClient()
	base := []string{"/apis", kubeciv1.GroupVersion.Group, kubeciv1.GroupVersion.Version, "namespaces", ns}
	raw, err := rest.Get().AbsPath(append(base, "workflows", name)...).DoRaw(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	var wf kubeciv1.Workflow
	if err := json.Unmarshal(raw, &wf); err != nil {
		return 0, 0, 0, err
	}
	list, err := rest.Get().AbsPath(append(base, "triggerrecords")...).
		Param("labelSelector", kubeciv1.LabelWorkflowUID+"="+string(wf.UID)).DoRaw(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	var items struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(list, &items); err != nil {
		return 0, 0, 0, err
	}
	largest := 0
	for _, it := range items.Items {
		largest = max(largest, len(it))
	}
	return float64(len(raw)) / 1024, int(wf.Status.RecordShards), float64(largest) / 1024, nil
}
