package main

import (
	"fmt"
	"math"
	"time"
)

// The "argo" group runs the same workloads through Kube CI and Argo
// Workflows, each on a fresh control plane with the same node simulator, and
// compares what a run costs.

// CompareResult is one workload through one engine.
type CompareResult struct {
	Engine   string `json:"engine"`
	Workload string `json:"workload"`
	// Pods the engine ran per completed run (the last run).
	PodsPerRun Summary `json:"podsPerRun"`
	// PerMinute: runs completed in the window, per minute.
	PerMinute Summary `json:"completedPerMinute"`
	Failed    Summary `json:"failed"`
	// Submit (the ConfigMap update, or the Argo Workflow's create) to the
	// first pod seen by a watch, and to the run seen finished, ms.
	FirstPodMedianMs Summary `json:"firstPodMedianMs"`
	FirstPodP99Ms    Summary `json:"firstPodP99Ms"`
	DoneMedianMs     Summary `json:"doneMedianMs"`
	DoneP99Ms        Summary `json:"doneP99Ms"`
	// RequestsPerRun: API requests of all clients per run submitted in the
	// window, counted until all of them ended, and APIServerCPUPerRun
	// kube-apiserver's CPU seconds per run likewise.
	RequestsPerRun     Summary `json:"requestsPerRun"`
	APIServerCPUPerRun Summary `json:"apiserverCPUSecondsPerRun"`
	// ControllerCPU: the controller's CPU seconds from the first submit to
	// the last run's end, and per run submitted; ControllerPeakMiB its peak
	// resident memory.
	ControllerCPU       Summary `json:"controllerCPUSeconds"`
	ControllerCPUPerRun Summary `json:"controllerCPUSecondsPerRun"`
	ControllerPeakMiB   Summary `json:"controllerPeakRSSMiB"`
	// Requests per run by kind, in the last repetition.
	Requests map[string]requestCost `json:"requestsPerRun_byKind"`
}

// runTimes is one run as the harness saw it.
type runTimes struct {
	Submitted, FirstPod, Finished time.Time
	Failed                        bool
	Pods                          int
}

// compareRun is what one window measured.
type compareRun struct {
	completed, failed                     int
	perMinute, podsPerRun                 float64
	firstPodMedian, firstPodP99           float64
	doneMedian, doneP99                   float64
	requestsPerRun, apiserverCPU, ctrlCPU float64
	ctrlCPUPerRun, ctrlPeakMiB            float64
	requests                              map[string]requestCost
}

// tallyCompare counts the runs that finished in [start, end]: completions per
// minute, failures, pods per completed run, and the median and p99 times
// from submit to first pod and to completion, in ms.
func tallyCompare(runs []runTimes, start, end time.Time) compareRun {
	var res compareRun
	var firstPod, done []float64
	pods := 0
	for _, r := range runs {
		if r.Finished.IsZero() || r.Finished.Before(start) || r.Finished.After(end) {
			continue
		}
		if r.Failed {
			res.failed++
			continue
		}
		res.completed++
		pods += r.Pods
		done = append(done, ms(r.Finished.Sub(r.Submitted)))
		if !r.FirstPod.IsZero() {
			firstPod = append(firstPod, ms(r.FirstPod.Sub(r.Submitted)))
		}
	}
	res.perMinute = float64(res.completed) / end.Sub(start).Minutes()
	if res.completed > 0 {
		res.podsPerRun = float64(pods) / float64(res.completed)
	}
	res.firstPodMedian, res.firstPodP99 = percentile(firstPod, 50), percentile(firstPod, 99)
	res.doneMedian, res.doneP99 = percentile(done, 50), percentile(done, 99)
	return res
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// summarizeCompare folds the windows of one engine and workload.
func summarizeCompare(engine, workload string, runs []compareRun) CompareResult {
	f := func(get func(compareRun) float64) Summary {
		var xs []float64 // without the NaN of windows where no run completed
		for _, x := range pick(runs, get) {
			if !math.IsNaN(x) {
				xs = append(xs, x)
			}
		}
		return summarize(xs)
	}
	return CompareResult{
		Engine: engine, Workload: workload,
		PodsPerRun:          f(func(r compareRun) float64 { return r.podsPerRun }),
		PerMinute:           f(func(r compareRun) float64 { return r.perMinute }),
		Failed:              f(func(r compareRun) float64 { return float64(r.failed) }),
		FirstPodMedianMs:    f(func(r compareRun) float64 { return r.firstPodMedian }),
		FirstPodP99Ms:       f(func(r compareRun) float64 { return r.firstPodP99 }),
		DoneMedianMs:        f(func(r compareRun) float64 { return r.doneMedian }),
		DoneP99Ms:           f(func(r compareRun) float64 { return r.doneP99 }),
		RequestsPerRun:      f(func(r compareRun) float64 { return r.requestsPerRun }),
		APIServerCPUPerRun:  f(func(r compareRun) float64 { return r.apiserverCPU }),
		ControllerCPU:       f(func(r compareRun) float64 { return r.ctrlCPU }),
		ControllerCPUPerRun: f(func(r compareRun) float64 { return r.ctrlCPUPerRun }),
		ControllerPeakMiB:   f(func(r compareRun) float64 { return r.ctrlPeakMiB }),
		Requests:            runs[len(runs)-1].requests,
	}
}

// ratio is a/b as text, "-" when either is missing.
func ratio(a, b Summary) string {
	if a.Runs == 0 || b.Runs == 0 || b.Median == 0 {
		return "-"
	}
	return fmtRatio(a.Median / b.Median)
}

func fmtRatio(r float64) string {
	if r >= 10 {
		return fmt.Sprintf("%.0fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}
