package main

import (
	"context"
	"time"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// compareKubeCI runs workload through Kube CI on a fresh control plane:
// runs are triggered as in the throughput figures, by updating ConfigMaps
// that one Workflow selects (twice as many as runs in flight, so that each
// update starts its own run).
func (b *bench) compareKubeCI(ctx context.Context, wl compareWorkload, window time.Duration, inFlight int) (compareRun, error) {
	return withCluster(ctx, b, "compare-kubeci-"+wl.name, func(ctx context.Context) (compareRun, error) {
		if err := b.startSimulator(ctx); err != nil {
			return compareRun{}, err
		}
		if err := b.startOperator(ctx, "compare-"+wl.name); err != nil {
			return compareRun{}, err
		}
		const ns = "compare"
		c := b.cluster.client
		if err := b.cluster.namespace(ctx, ns); err != nil {
			return compareRun{}, err
		}
		pool := newConfigMapPool(2*inFlight, inFlight)
		labels := map[string]string{"bench": "compare"}
		if err := createAll(ctx, c, configMaps(ns, pool.size, func(int) map[string]string { return labels })); err != nil {
			return compareRun{}, err
		}
		nextSecond()
		base := &kubeciv1.Workflow{Spec: kubeciv1.WorkflowSpec{Steps: wl.steps}}
		if err := c.Create(ctx, selectorWorkflow(base, ns, wl.name, "", labels)); err != nil {
			return compareRun{}, err
		}
		if err := waitWatching(ctx, c, ns, pool.size, 2*time.Minute); err != nil {
			return compareRun{}, err
		}
		t := newRunTracker(inFlight)
		if err := watchPods(ctx, b.cluster.kube, ns, kubeciv1.LabelWorkplan, t); err != nil {
			return compareRun{}, err
		}
		runs, err := watchRuns(ctx, c, ns)
		if err != nil {
			return compareRun{}, err
		}
		runs.onFinish(func(r *run) {
			pool.release(r.Trigger) // before the slot is free: the next run takes a ConfigMap
			t.finish(r.Name, r.Trigger, r.Finished, r.Phase != kubeciv1.WorkplanCompleted)
		})
		return b.measureWindow(ctx, t, window, func(i int) error {
			name := pool.take()
			t.submit(name, time.Now())
			_, err := touch(ctx, c, ns, name, i)
			return err
		})
	})
}
