package workplan

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// quotaRetry is how often the creation of a pod that exceeds a ResourceQuota
// is retried: the quota frees up when other pods of the namespace end, which
// the controller does not watch.
const quotaRetry = 15 * time.Second

// reconcileTask applies the run's decision: it records the new status, stops
// the pods of an ended run and creates the current task's pod.
func (r *Reconciler) reconcileTask(ctx context.Context, s *scope) error {
	now := r.Clock.Now()
	d := decideRun(runInput{Now: now, Workplan: s.wp, Pods: s.taskPods, Node: s.node, Options: r.Options})
	s.wp.Status = d.Status
	s.requeue(d.RequeueAfter)
	for _, p := range d.Stop {
		if err := r.stopPod(ctx, p); err != nil {
			return fmt.Errorf("stopping pod %s: %w", p.Name, err)
		}
	}
	if d.Create == noTask {
		return nil
	}

	st, i := &s.wp.Status, d.Create
	pod, err := taskPod(s.wp, i, r.Options.WorkspaceRoot, st.NodeName, r.Options.cleanerImage())
	if err != nil {
		endRun(st, s.wp.Generation, kubeciv1.ReasonPodRejected, err.Error(), now)
		return nil
	}
	created, err := r.createPod(ctx, s.wp, pod)
	switch {
	case err == nil:
		st.PodName = pod.Name
		s.taskPods[i] = pod
		// Say what the next reconcile, seeing the pod, would say, so that it
		// has no status of its own to write.
		setProgress(st, s.wp.Generation, progress(pod, i), now)
		if created {
			podsCreated.WithLabelValues(podKindTask).Inc()
		}
	case exceededQuota(err):
		setProgress(st, s.wp.Generation, fmt.Sprintf("task %d: pod %s waits for quota, retrying every %s: %v", i, pod.Name, quotaRetry, err), now)
		s.requeue(quotaRetry)
	case refusedForGood(err):
		endRun(st, s.wp.Generation, kubeciv1.ReasonPodRejected, fmt.Sprintf("pod %s of task %d was refused: %v", pod.Name, i, err), now)
	default:
		return fmt.Errorf("creating pod %s for task %d: %w", pod.Name, i, err)
	}
	return nil
}

// createPod creates pod for wp. A pod of that name that wp already controls
// counts as created (pod names are deterministic, so a create retried after a
// restart finds the first one): created is false then.
func (r *Reconciler) createPod(ctx context.Context, wp *kubeciv1.Workplan, pod *corev1.Pod) (created bool, err error) {
	err = r.Client.Create(ctx, pod)
	if !apierrors.IsAlreadyExists(err) {
		return err == nil, err
	}
	existing := &corev1.Pod{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(pod), existing); err != nil {
		return false, fmt.Errorf("pod %s exists but cannot be read: %w", pod.Name, err)
	}
	if !belongsTo(existing, wp) {
		return false, fmt.Errorf("pod %s already exists and does not belong to Workplan %s (UID %s): delete it so that the run can go on",
			pod.Name, wp.Name, wp.UID)
	}
	log.FromContext(ctx).V(1).Info("pod already created", "pod", pod.Name)
	*pod = *existing
	return false, nil
}

// stopPod stops a task pod of an ended run (cancelled, overdue). A pod that
// started is given an activeDeadlineSeconds it has already passed: the kubelet
// stops its containers and the pod stays, Failed, with its logs. A pod that
// never started has nothing to keep and is deleted.
func (r *Reconciler) stopPod(ctx context.Context, pod *corev1.Pod) error {
	if pod.Status.StartTime == nil || pod.Spec.NodeName == "" {
		return r.deletePod(ctx, pod)
	}
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil && *d <= 1 {
		return nil
	}
	patch := client.MergeFromWithOptions(pod.DeepCopy(), client.MergeFromWithOptimisticLock{})
	pod = pod.DeepCopy()
	pod.Spec.ActiveDeadlineSeconds = ptr.To[int64](1)
	err := r.Client.Patch(ctx, pod, patch)
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // gone, or changed: the next reconcile looks again
	}
	return err
}

// deletePod deletes pod (its containers get their grace period to stop), if
// it is still the same pod.
func (r *Reconciler) deletePod(ctx context.Context, pod *corev1.Pod) error {
	err := r.Client.Delete(ctx, pod, client.Preconditions{UID: &pod.UID})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// exceededQuota reports whether a create was refused by a ResourceQuota that
// is used up, which passes once other pods end.
func exceededQuota(err error) bool {
	return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "exceeded quota")
}
