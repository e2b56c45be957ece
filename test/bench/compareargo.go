package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

var argoWorkflows = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "workflows"}

// compareArgo runs workload through Argo Workflows on a fresh control plane:
// Argo's CRDs, its workflow-controller (binary, with its defaults) managing
// one namespace, and the node simulator also doing the executor's part. Runs
// are submitted by creating Workflows.
func (b *bench) compareArgo(ctx context.Context, wl compareWorkload, window time.Duration, inFlight int) (compareRun, error) {
	return withCluster(ctx, b, "compare-argo-"+wl.name, func(ctx context.Context) (compareRun, error) {
		const ns = "compare"
		c := b.cluster.client
		if err := installArgo(ctx, c, b.argoCRDs); err != nil {
			return compareRun{}, err
		}
		if err := b.cluster.namespace(ctx, ns); err != nil {
			return compareRun{}, err
		}
		if err := c.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "default"}}); err != nil {
			return compareRun{}, fmt.Errorf("creating ServiceAccount %s/default: %w", ns, err)
		}
		cfg := rest.CopyConfig(b.cluster.env.Config)
		cfg.QPS, cfg.Burst = -1, 0
		dyn, err := dynamic.NewForConfig(cfg)
		if err != nil {
			return compareRun{}, err
		}
		sim := newNodeSim(b.cluster.kube, c, b.opts.stepDuration)
		sim.selector = argoLabelWorkflow
		sim.executor = &argoExecutor{dyn: dyn, writes: &sim.writes}
		if err := b.runSimulator(ctx, sim); err != nil {
			return compareRun{}, err
		}
		if b.operator, err = startArgo(b.argoBinary, b.cluster.kubeconfig, ns, b.opts.logDir, wl.name, b.opts.argoRequeue); err != nil {
			return compareRun{}, err
		}
		t := newRunTracker(inFlight)
		if err := watchPods(ctx, b.cluster.kube, ns, argoLabelWorkflow, t); err != nil {
			return compareRun{}, err
		}
		if err := watchArgoWorkflows(ctx, dyn, ns, t); err != nil {
			return compareRun{}, err
		}
		create := func(name string) error {
			t.submit(name, time.Now())
			_, err := dyn.Resource(argoWorkflows).Namespace(ns).Create(ctx, argoWorkflow(ns, name, wl.steps), metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("creating Argo Workflow %s/%s: %w", ns, name, err)
			}
			return nil
		}
		// A first run, measured by nothing, until the controller has
		// started, become the leader and completed a run.
		if !t.acquire(ctx, time.Now().Add(time.Second)) {
			return compareRun{}, fmt.Errorf("no slot for the warm-up run")
		}
		if err := create("warm-up"); err != nil {
			return compareRun{}, err
		}
		err = poll(ctx, 100*time.Millisecond, 2*time.Minute, "Argo's first Workflow to finish (see "+b.operator.log.Name()+")", func() (bool, error) {
			return len(t.runs()) == 1, nil
		})
		if err != nil {
			return compareRun{}, err
		}
		if r := t.runs()[0]; r.Failed {
			return compareRun{}, fmt.Errorf("Argo's first Workflow failed; see %s", b.operator.log.Name())
		}
		return b.measureWindow(ctx, t, window, func(i int) error {
			return create(fmt.Sprintf("%s-%06d", wl.name, i))
		})
	})
}

// watchArgoWorkflows tells t of each Argo Workflow of ns that ended
// (Succeeded, or Failed or Error) until ctx ends.
func watchArgoWorkflows(ctx context.Context, dyn dynamic.Interface, ns string, t *runTracker) error {
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, ns, nil)
	inf := factory.ForResource(argoWorkflows).Informer()
	observe := func(obj any) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return
		}
		switch phase, _, _ := unstructured.NestedString(u.Object, "status", "phase"); phase {
		case "Succeeded", "Failed", "Error":
			t.finish(u.GetName(), u.GetName(), time.Now(), phase != "Succeeded")
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: observe, UpdateFunc: func(_, obj any) { observe(obj) }})
	go inf.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return ctx.Err()
	}
	return nil
}
