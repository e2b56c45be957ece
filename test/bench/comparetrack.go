package main

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// runTracker follows the runs of one window, whichever the engine: when each
// was submitted (by the slot it holds: a ConfigMap for Kube CI, the Workflow
// for Argo), when a watch first saw one of its pods (by run name), and when it
// finished. It limits the runs in flight.
type runTracker struct {
	mu        sync.Mutex
	submitted map[string]time.Time // by slot
	firstPod  map[string]time.Time // by run
	pods      map[string]int       // by run
	done      []runTimes
	free      chan struct{}
}

func newRunTracker(inFlight int) *runTracker {
	t := &runTracker{submitted: map[string]time.Time{}, firstPod: map[string]time.Time{}, pods: map[string]int{},
		free: make(chan struct{}, inFlight)}
	for range inFlight {
		t.free <- struct{}{}
	}
	return t
}

// acquire waits for a free slot until end; false when end came first or
// ctx ended.
func (t *runTracker) acquire(ctx context.Context, end time.Time) bool {
	select {
	case <-t.free:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	case <-time.After(time.Until(end)):
		return false
	}
}

func (t *runTracker) submit(slot string, at time.Time) {
	t.mu.Lock()
	t.submitted[slot] = at
	t.mu.Unlock()
}

// pod records a pod of run seen at at.
func (t *runTracker) pod(run string, at time.Time) {
	t.mu.Lock()
	if _, ok := t.firstPod[run]; !ok {
		t.firstPod[run] = at
	}
	t.pods[run]++
	t.mu.Unlock()
}

// finish records run, submitted through slot, finished at at, and frees its
// slot. Only a slot's first finish counts.
func (t *runTracker) finish(run, slot string, at time.Time, failed bool) {
	t.mu.Lock()
	sub, ok := t.submitted[slot]
	if ok {
		delete(t.submitted, slot)
		t.done = append(t.done, runTimes{Submitted: sub, FirstPod: t.firstPod[run], Finished: at, Failed: failed, Pods: t.pods[run]})
	}
	t.mu.Unlock()
	if ok {
		select {
		case t.free <- struct{}{}:
		default:
		}
	}
}

// inFlight is how many submitted runs have not finished.
func (t *runTracker) inFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.submitted)
}

func (t *runTracker) runs() []runTimes {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]runTimes(nil), t.done...)
}

// watchPods tells t of every pod of ns carrying label, by the label's value
// (the run's name), until ctx ends.
func watchPods(ctx context.Context, kube kubernetes.Interface, ns, label string, t *runTracker) error {
	factory := informers.NewSharedInformerFactoryWithOptions(kube, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = label }))
	inf := factory.Core().V1().Pods().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj any) {
		if pod, ok := obj.(*corev1.Pod); ok {
			t.pod(pod.Labels[label], time.Now())
		}
	}})
	go inf.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return ctx.Err()
	}
	return nil
}
