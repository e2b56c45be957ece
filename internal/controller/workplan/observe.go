package workplan

import (
	"context"
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
)

// observe gathers what the decisions need: the Workplan's pods and the state
// of its node. Absences that matter are confirmed around the cache, which can
// lag right after a create: the recorded pod of a run that goes on, when the
// cache does not show it, and a node the cache does not know. A run whose
// cleanup is over needs no node.
func (r *Reconciler) observe(ctx context.Context, s *scope) error {
	wp := s.wp
	var pods corev1.PodList
	if err := r.Client.List(ctx, &pods, client.InNamespace(wp.Namespace), client.MatchingFields{indexOwner: string(wp.UID)}); err != nil {
		return fmt.Errorf("listing the pods of Workplan %s: %w", wp.Name, err)
	}
	s.taskPods, s.cleanupPods = map[int]*corev1.Pod{}, map[int]*corev1.Pod{}
	for i := range pods.Items {
		s.add(&pods.Items[i], r.Options.CleanupAttempts)
	}
	// Only a run that goes on needs to know whether its pod is really gone.
	if name := wp.Status.PodName; name != "" && !wp.Status.Phase.Finished() && !s.hasTaskPod(name) {
		pod := &corev1.Pod{}
		err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: wp.Namespace, Name: name}, pod)
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("reading pod %s of Workplan %s: %w", name, wp.Name, err)
		case belongsTo(pod, wp):
			s.add(pod, r.Options.CleanupAttempts)
		}
	}

	nodeName := wp.Status.NodeName
	if nodeName == "" {
		nodeName = firstNode(s.taskPods)
	}
	if nodeName == "" || cleanedUp(wp) {
		s.node = nodeState{Name: nodeName}
		return nil
	}
	node := &corev1.Node{}
	err := r.Client.Get(ctx, client.ObjectKey{Name: nodeName}, node)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, client.ObjectKey{Name: nodeName}, node)
	}
	switch {
	case apierrors.IsNotFound(err):
		s.node = observeNode(nodeName, nil)
	case err != nil:
		return fmt.Errorf("reading node %s of Workplan %s: %w", nodeName, wp.Name, err)
	default:
		s.node = observeNode(nodeName, node)
	}
	return nil
}

// add files one of the Workplan's pods as a task pod or a cleanup attempt,
// going by its name as well as its label, so that a pod named otherwise
// cannot pass for one of them.
func (s *scope) add(pod *corev1.Pod, attempts int) {
	label := pod.Labels[kubeciv1.LabelTask]
	if label == cleanupTaskLabel {
		for a := 1; a <= attempts; a++ {
			if pod.Name == cleanupPodName(s.wp.Name, a) {
				s.cleanupPods[a] = pod
			}
		}
		return
	}
	if i, err := strconv.Atoi(label); err == nil && pod.Name == names.TaskPod(s.wp.Name, i) {
		s.taskPods[i] = pod
	}
}

func (s *scope) hasTaskPod(name string) bool {
	for _, p := range s.taskPods {
		if p.Name == name {
			return true
		}
	}
	return false
}
