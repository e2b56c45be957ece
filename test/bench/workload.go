package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/trigger"
)

// selectorWorkflow is the design doc's Workflow named name in ns, triggered
// by every ConfigMap of cmNamespace (ns when empty) labelled labels.
func selectorWorkflow(base *kubeciv1.Workflow, ns, name, cmNamespace string, labels map[string]string) *kubeciv1.Workflow {
	wf := &kubeciv1.Workflow{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       *base.Spec.DeepCopy(),
	}
	wf.Spec.Triggers = []kubeciv1.Trigger{{
		APIVersion: "v1", Kind: "ConfigMap", Namespace: cmNamespace,
		Selector:      &metav1.LabelSelector{MatchLabels: labels},
		OnAddOrUpdate: true,
	}}
	return wf
}

// createAll creates objects, several at once (more than forAll: 100,000
// ConfigMaps take a minute or more).
func createAll[T client.Object](ctx context.Context, c client.Client, objs []T) error {
	return forAllN(objs, 48, func(obj T) error {
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
		}
		return nil
	})
}

// forAll calls do for each of xs, up to 16 at once, and returns the first
// error.
func forAll[T any](xs []T, do func(T) error) error { return forAllN(xs, 16, do) }

// forAllN calls do for each of xs, up to n at once, and returns the first
// error.
func forAllN[T any](xs []T, n int, do func(T) error) error {
	sem := make(chan struct{}, n)
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for _, x := range xs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := do(x); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// setUpWorkload creates namespace ns with n ConfigMaps labelled
// bench=label and one copy of the design doc's Workflow selecting them per
// name in workflows, waits until the operator watches them all, and follows
// the namespace's runs until watchCtx ends.
func (b *bench) setUpWorkload(ctx, watchCtx context.Context, ns, label string, n int, workflows []string) (*runWatch, error) {
	c := b.cluster.client
	if err := b.cluster.namespace(ctx, ns); err != nil {
		return nil, err
	}
	labels := map[string]string{"bench": label}
	if err := createAll(ctx, c, configMaps(ns, n, func(int) map[string]string { return labels })); err != nil {
		return nil, err
	}
	nextSecond()
	var wfs []*kubeciv1.Workflow
	for _, name := range workflows {
		wfs = append(wfs, selectorWorkflow(b.designDoc, ns, name, "", labels))
	}
	if err := createAll(ctx, c, wfs); err != nil {
		return nil, err
	}
	if err := waitWatching(ctx, c, ns, len(workflows)*n, 2*time.Minute); err != nil {
		return nil, err
	}
	return watchRuns(watchCtx, c, ns)
}

// configMaps returns n ConfigMaps named cm-00000... in ns; labels(i) labels
// the i-th.
func configMaps(ns string, n int, labels func(i int) map[string]string) []*corev1.ConfigMap {
	out := make([]*corev1.ConfigMap, n)
	for i := range n {
		out[i] = &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: cmName(i), Labels: labels(i)},
			Data:       map[string]string{"n": "0"},
		}
	}
	return out
}

func cmName(i int) string { return fmt.Sprintf("cm-%05d", i) }

// touch changes ConfigMap ns/name's data (a real change, which starts a run:
// the value is unique, as the same value again would change nothing) and
// returns its new resourceVersion, as a number (etcd's revision).
func touch(ctx context.Context, c client.Client, ns, name string, n int) (int64, error) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	patch := fmt.Appendf(nil, `{"data":{"n":"%d-%d"}}`, n, time.Now().UnixNano())
	if err := c.Patch(ctx, cm, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return 0, fmt.Errorf("updating ConfigMap %s/%s: %w", ns, name, err)
	}
	return strconv.ParseInt(cm.ResourceVersion, 10, 64)
}

// waitWatching waits until every Workflow of ns is Ready (watching its
// triggers) for its current generation and, when recorded >= 0, their records
// hold recorded objects in all.
func waitWatching(ctx context.Context, c client.Client, ns string, recorded int, timeout time.Duration) error {
	var last string
	err := poll(ctx, 250*time.Millisecond, timeout, "the Workflows of "+ns+" to watch their triggers", func() (bool, error) {
		var list kubeciv1.WorkflowList
		if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return false, err
		}
		ready, total := 0, 0
		for _, wf := range list.Items {
			cond := meta.FindStatusCondition(wf.Status.Conditions, kubeciv1.ConditionReady)
			if cond != nil && cond.Status == metav1.ConditionTrue && cond.ObservedGeneration == wf.Generation &&
				wf.Status.ObservedTriggers != "" {
				ready++
			}
			n, err := recordedObjects(ctx, c, &wf)
			if err != nil {
				return false, err
			}
			total += n
		}
		last = fmt.Sprintf("%d of %d Ready, %d objects recorded", ready, len(list.Items), total)
		return ready == len(list.Items) && (recorded < 0 || total == recorded), nil
	})
	if err != nil {
		return fmt.Errorf("%w (%s)", err, last)
	}
	return nil
}

// recordedObjects counts the objects wf's record of acted-on changes holds:
// in its status, or in its TriggerRecord shards.
func recordedObjects(ctx context.Context, c client.Client, wf *kubeciv1.Workflow) (int, error) {
	shards := int(wf.Status.RecordShards)
	if shards == 0 {
		return len(wf.Status.LastObservedResourceGeneration), nil
	}
	var list kubeciv1.TriggerRecordList
	if err := c.List(ctx, &list, client.InNamespace(wf.Namespace),
		client.MatchingLabels{kubeciv1.LabelWorkflowUID: string(wf.UID)}); err != nil {
		return 0, err
	}
	n := 0
	for _, tr := range list.Items {
		if int(tr.Shard) < shards {
			n += len(trigger.InShard(tr.Entries, int(tr.Shard), shards))
		}
	}
	return n, nil
}

// nextSecond waits until the wall clock enters a new second: objects created
// before it predate a Workflow created after it (creation timestamps have a
// resolution of one second), so they start no runs.
func nextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second).Sub(now))
}

// emptyNamespace deletes the Workflows and Workplans of ns (removing the
// Workplans' finalizers: the operator that would release them may be gone)
// and their pods.
func emptyNamespace(ctx context.Context, c client.Client, ns string) error {
	if err := c.DeleteAllOf(ctx, &kubeciv1.Workflow{}, client.InNamespace(ns)); err != nil {
		return err
	}
	var list kubeciv1.WorkplanList
	if err := c.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return err
	}
	var held []*kubeciv1.Workplan
	for i := range list.Items {
		if len(list.Items[i].Finalizers) > 0 {
			held = append(held, &list.Items[i])
		}
	}
	err := forAll(held, func(wp *kubeciv1.Workplan) error {
		patch := []byte(`{"metadata":{"finalizers":null}}`)
		return client.IgnoreNotFound(c.Patch(ctx, wp, client.RawPatch(types.MergePatchType, patch)))
	})
	if err != nil {
		return err
	}
	if err := c.DeleteAllOf(ctx, &kubeciv1.Workplan{}, client.InNamespace(ns)); err != nil {
		return err
	}
	return c.DeleteAllOf(ctx, &corev1.Pod{}, client.InNamespace(ns), client.GracePeriodSeconds(0))
}
