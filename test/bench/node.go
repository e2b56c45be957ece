package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// nodeSim stands in for a scheduler and a kubelet on one Ready node: it binds
// the Workplan pods waiting for a node to it (through the pods/binding
// subresource, as kube-scheduler does), then writes their status as a kubelet
// would, one write per container state change: each init container runs for
// stepDuration and exits 0, then the containers run for stepDuration and exit
// 0, and the pod Succeeds. A native sidecar (an init container with
// restartPolicy Always) is started and stopped with the writes around it, as
// a kubelet does, without a write of its own (podstatus.go). It also does what the kubelet and the garbage
// collector (which envtest lacks) do for deleted pods and Workplans: removes
// a pod being deleted, and the pods of a deleted Workplan.
type nodeSim struct {
	kube         kubernetes.Interface
	client       client.Client
	node         string
	stepDuration time.Duration
	workers      int
	// selector picks the pods to run (a label selector); executor, when
	// set, also writes what the pods' own containers would (Argo's executor).
	selector string
	executor podExecutor

	pods  cache.SharedIndexInformer
	queue workqueue.TypedRateLimitingInterface[types.NamespacedName]

	mu      sync.Mutex
	started map[types.UID]time.Time // when each pod was bound

	// writes counts the API writes the simulator made.
	writes atomic.Int64
}

// simNodeName is the simulated node.
const simNodeName = "kubeci-bench-node"

// podExecutor writes what a pod's containers write to the API server
// themselves, around the status writes of the kubelet.
type podExecutor interface {
	// started is called once the containers were written Running.
	started(ctx context.Context, pod *corev1.Pod) error
	// finishing is called before the containers are written Terminated.
	finishing(ctx context.Context, pod *corev1.Pod) error
}

// newNodeSim runs Kube CI's pods.
func newNodeSim(kube kubernetes.Interface, c client.Client, stepDuration time.Duration) *nodeSim {
	return &nodeSim{kube: kube, client: c, node: simNodeName, stepDuration: stepDuration, workers: 8,
		started: map[types.UID]time.Time{}, selector: kubeciv1.LabelWorkplan}
}

// run registers the node, then binds and completes pods until ctx ends.
func (s *nodeSim) run(ctx context.Context) error {
	if err := s.registerNode(ctx); err != nil {
		return err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(s.kube, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = s.selector }))
	s.pods = factory.Core().V1().Pods().Informer()
	s.queue = workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[types.NamespacedName]())
	enqueue := func(obj any) {
		if pod, ok := obj.(*corev1.Pod); ok {
			s.queue.Add(types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name})
		}
	}
	_, _ = s.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: func(obj any) {
			if pod, ok := obj.(*corev1.Pod); ok {
				s.mu.Lock()
				delete(s.started, pod.UID)
				s.mu.Unlock()
			}
		},
	})
	go s.pods.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), s.pods.HasSynced) {
		return ctx.Err()
	}
	var wg sync.WaitGroup
	for range s.workers {
		wg.Go(func() {
			for s.next(ctx) {
			}
		})
	}
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(gcInterval):
			if s.executor == nil { // Argo's pods are owned by Workflows, which the bench does not delete
				s.collectGarbage(ctx)
			}
		}
	}
	s.queue.ShutDown()
	wg.Wait()
	return nil
}

// gcInterval is how often pods of deleted Workplans are removed.
const gcInterval = 5 * time.Second

// collectGarbage deletes the pods whose controlling Workplan is gone, as the
// garbage collector of kube-controller-manager would. The pods are looked at
// before the Workplans are listed, so a pod's Workplan, created before the
// pod, is in the list unless it was deleted.
func (s *nodeSim) collectGarbage(ctx context.Context) {
	pods := s.pods.GetStore().List()
	var list metav1.PartialObjectMetadataList
	list.SetGroupVersionKind(kubeciv1.GroupVersion.WithKind("WorkplanList"))
	if err := s.client.List(ctx, &list); err != nil {
		return
	}
	alive := make(map[types.UID]bool, len(list.Items))
	for _, wp := range list.Items {
		alive[wp.UID] = true
	}
	for _, obj := range pods {
		pod := obj.(*corev1.Pod)
		owner := metav1.GetControllerOf(pod)
		if owner == nil || owner.Kind != "Workplan" || alive[owner.UID] || pod.DeletionTimestamp != nil {
			continue
		}
		s.writes.Add(1)
		_ = s.kube.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &pod.UID}})
	}
}

// registerNode creates the node, Ready with room for many pods.
func (s *nodeSim) registerNode(ctx context.Context) error {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: s.node,
		Labels: map[string]string{corev1.LabelHostname: s.node}}}
	created, err := s.kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("registering node %s: %w", s.node, err)
	}
	room := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("1000"),
		corev1.ResourceMemory: resource.MustParse("4Ti"),
		corev1.ResourcePods:   resource.MustParse("100000"),
	}
	now := metav1.Now()
	created.Status = corev1.NodeStatus{
		Capacity: room, Allocatable: room,
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now}},
		Addresses: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: s.node}},
	}
	if _, err := s.kube.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("marking node %s Ready: %w", s.node, err)
	}
	return nil
}

func (s *nodeSim) next(ctx context.Context) bool {
	key, quit := s.queue.Get()
	if quit {
		return false
	}
	defer s.queue.Done(key)
	after, err := s.sync(ctx, key)
	switch {
	case err != nil && ctx.Err() == nil:
		s.queue.AddRateLimited(key)
	case after > 0:
		s.queue.Forget(key)
		s.queue.AddAfter(key, after)
	default:
		s.queue.Forget(key)
	}
	return true
}

// sync moves one pod a step further; after, when positive, is when to look
// again.
func (s *nodeSim) sync(ctx context.Context, key types.NamespacedName) (after time.Duration, err error) {
	obj, ok, err := s.pods.GetStore().GetByKey(key.Namespace + "/" + key.Name)
	if err != nil || !ok {
		return 0, err
	}
	pod := obj.(*corev1.Pod)
	switch {
	case pod.DeletionTimestamp != nil:
		// The kubelet confirms a deletion once the containers are gone.
		s.writes.Add(1)
		err := s.kube.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name,
			metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0), Preconditions: &metav1.Preconditions{UID: &pod.UID}})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return 0, nil
		}
		return 0, err
	case pod.Spec.NodeName == "":
		return 0, s.bind(ctx, pod)
	case pod.Spec.NodeName != s.node:
		return 0, nil
	case pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed:
		return 0, nil
	}
	stage, due := s.stage(pod)
	if wait := time.Until(due); wait > 0 {
		return wait, nil
	}
	next := podStatusAt(pod, stage, time.Now())
	if next == nil {
		return 0, nil
	}
	nInit := regularInits(pod)
	if s.executor != nil && stage+1 == nInit+2 {
		if err := s.executor.finishing(ctx, pod); err != nil {
			return 0, err
		}
	}
	updated := pod.DeepCopy()
	updated.Status = *next
	s.writes.Add(1)
	_, err = s.kube.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return 0, nil // a newer version or a deletion is on its way
	}
	if err == nil && s.executor != nil && stage+1 == nInit+1 {
		err = s.executor.started(ctx, pod)
	}
	return 0, err
}

// bind places pod on the node, unless its required node affinity names
// another one.
func (s *nodeSim) bind(ctx context.Context, pod *corev1.Pod) error {
	if !fitsNode(pod, s.node) {
		return nil
	}
	s.writes.Add(1)
	err := s.kube.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: s.node},
	}, metav1.CreateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return nil // bound already, or gone
	}
	if err == nil {
		s.mu.Lock()
		s.started[pod.UID] = time.Now()
		s.mu.Unlock()
	}
	return err
}

// stage is how far the pod has got (how many container state changes were
// written) and when the next one is due.
func (s *nodeSim) stage(pod *corev1.Pod) (stage int, due time.Time) {
	s.mu.Lock()
	start, ok := s.started[pod.UID]
	if !ok {
		start = time.Now()
		s.started[pod.UID] = start
	}
	s.mu.Unlock()
	stage = podStage(pod)
	if stage == 0 {
		return 0, start // the kubelet starts the pod at once
	}
	return stage, start.Add(time.Duration(stage) * s.stepDuration)
}

// fitsNode reports whether pod's required node affinity, if any, allows node.
func fitsNode(pod *corev1.Pod, node string) bool {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if termAllows(term, node) {
			return true
		}
	}
	return false
}

func termAllows(term corev1.NodeSelectorTerm, node string) bool {
	for _, r := range term.MatchFields {
		if r.Key != "metadata.name" {
			return false
		}
		in := false
		for _, v := range r.Values {
			in = in || v == node
		}
		if (r.Operator == corev1.NodeSelectorOpIn) != in {
			return false
		}
	}
	for _, r := range term.MatchExpressions {
		if r.Key != corev1.LabelHostname {
			return false
		}
		in := false
		for _, v := range r.Values {
			in = in || v == node
		}
		if (r.Operator == corev1.NodeSelectorOpIn) != in {
			return false
		}
	}
	return true
}
