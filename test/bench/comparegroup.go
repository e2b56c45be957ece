package main

import (
	"context"
	"fmt"
	"os"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// compareWorkload is a Workflow both engines run: the same steps and
// dependencies.
type compareWorkload struct {
	name  string
	steps []kubeciv1.Step
}

// compareWorkloads are the design doc's five steps and its first step alone.
func compareWorkloads(designDoc *kubeciv1.Workflow) []compareWorkload {
	first := *designDoc.Spec.Steps[0].DeepCopy()
	first.Dependency = nil
	return []compareWorkload{
		{name: "design-doc", steps: designDoc.Spec.Steps},
		{name: "single-step", steps: []kubeciv1.Step{first}},
	}
}

// Engine names in the results.
const (
	engineKubeCI = "Kube CI"
	engineArgo   = "Argo Workflows"
)

// compareGroup runs each workload through each engine reps times, every
// engine on a kube-apiserver with --feature-gates=WatchList=false (see
// watchListOff).
func (b *bench) compareGroup(ctx context.Context) ([]CompareResult, error) {
	var err error
	b.logf("argo: building Argo's workflow-controller (hack/build-argo.sh)")
	if b.argoBinary, b.argoCRDs, err = argoAssets(ctx, b.root); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "kubeci-bench-argo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	restore, err := watchListOff(tmp)
	if err != nil {
		return nil, err
	}
	defer restore()
	var out []CompareResult
	window, inFlight := b.opts.compareWindow, b.opts.compareInFlight
	for _, wl := range compareWorkloads(b.designDoc) {
		engines := []struct {
			name string
			run  func(context.Context, compareWorkload) (compareRun, error)
		}{
			{engineKubeCI, func(ctx context.Context, wl compareWorkload) (compareRun, error) {
				return b.compareKubeCI(ctx, wl, window, inFlight)
			}},
			{engineArgo, func(ctx context.Context, wl compareWorkload) (compareRun, error) {
				return b.compareArgo(ctx, wl, window, inFlight)
			}},
		}
		for _, e := range engines {
			var runs []compareRun
			for rep := range b.opts.reps {
				r, err := e.run(ctx, wl)
				if err != nil {
					return nil, fmt.Errorf("argo group, %s, %s: %w", e.name, wl.name, err)
				}
				b.logf("argo group, %s, %s, run %d: %.1f runs/min, %d failed, %.1f requests and %.1f ms of API server CPU per run, controller CPU %.1f s",
					e.name, wl.name, rep+1, r.perMinute, r.failed, r.requestsPerRun, 1000*r.apiserverCPU, r.ctrlCPU)
				runs = append(runs, r)
			}
			out = append(out, summarizeCompare(e.name, wl.name, runs))
		}
	}
	return out, nil
}
