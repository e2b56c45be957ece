package main

import (
	"context"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// run is a Workplan as the harness's watch saw it.
type run struct {
	Name     string
	Workflow string
	// Trigger is the name of the object that started it, and TriggerRV the
	// resourceVersion it answered, read as etcd's revision (envtest's API
	// server is etcd-backed, so resourceVersions are revisions and ordered).
	Trigger   string
	TriggerRV int64
	// Seen is when the watch delivered its creation; Finished when it first
	// showed the phase Completed or Failed.
	Seen, Finished time.Time
	Phase          kubeciv1.WorkplanPhase
}

// runWatch follows the Workplans of one namespace.
type runWatch struct {
	mu   sync.Mutex
	runs map[string]*run
	// onFinished, when set, is told of each finished run.
	onFinished func(*run)
}

// watchRuns watches the Workplans of ns until ctx ends. The watch starts from
// the namespace's current state, so call it before starting runs.
func watchRuns(ctx context.Context, c client.WithWatch, ns string) (*runWatch, error) {
	rw := &runWatch{runs: map[string]*run{}}
	var list kubeciv1.WorkplanList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	for i := range list.Items {
		rw.observe(&list.Items[i], time.Now())
	}
	rv := list.ResourceVersion
	w, err := c.Watch(ctx, &kubeciv1.WorkplanList{}, client.InNamespace(ns), &client.ListOptions{Raw: watchFrom(rv)})
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			for ev := range w.ResultChan() {
				wp, ok := ev.Object.(*kubeciv1.Workplan)
				if !ok {
					continue
				}
				rv = wp.ResourceVersion
				if ev.Type == watch.Added || ev.Type == watch.Modified {
					rw.observe(wp, time.Now())
				}
			}
			if ctx.Err() != nil {
				return
			}
			// The API server ends watches after a while: go on from where
			// this one stopped.
			for ctx.Err() == nil {
				if w, err = c.Watch(ctx, &kubeciv1.WorkplanList{}, client.InNamespace(ns), &client.ListOptions{Raw: watchFrom(rv)}); err == nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	return rw, nil
}

func (rw *runWatch) observe(wp *kubeciv1.Workplan, now time.Time) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	r, ok := rw.runs[wp.Name]
	if !ok {
		rv, _ := strconv.ParseInt(wp.Spec.Trigger.ResourceVersion, 10, 64)
		r = &run{Name: wp.Name, Workflow: wp.Spec.Workflow, Trigger: wp.Spec.Trigger.Name, TriggerRV: rv, Seen: now}
		rw.runs[wp.Name] = r
	}
	if r.Finished.IsZero() && wp.Status.Phase.Finished() {
		r.Finished, r.Phase = now, wp.Status.Phase
		if rw.onFinished != nil {
			rw.onFinished(r)
		}
	}
}

// onFinish sets the function told of each finished run (under the watch's
// lock: it must be quick).
func (rw *runWatch) onFinish(f func(*run)) {
	rw.mu.Lock()
	rw.onFinished = f
	rw.mu.Unlock()
}

// snapshot copies the runs seen so far.
func (rw *runWatch) snapshot() []run {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	out := make([]run, 0, len(rw.runs))
	for _, r := range rw.runs {
		out = append(out, *r)
	}
	return out
}

// count returns how many runs were seen.
func (rw *runWatch) count() int {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return len(rw.runs)
}

// watchFrom asks a watch to start after resourceVersion rv.
func watchFrom(rv string) *metav1.ListOptions {
	return &metav1.ListOptions{ResourceVersion: rv}
}
