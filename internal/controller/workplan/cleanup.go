package workplan

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// cleanupInput is everything the workspace cleanup is decided from.
type cleanupInput struct {
	Now time.Time
	// Workplan carries the run's status as decided for this reconcile.
	Workplan *kubeciv1.Workplan
	// TaskPods are the run's task pods that exist, by task index.
	TaskPods map[int]*corev1.Pod
	// CleanupPods are the run's cleanup pods that exist, by attempt (from 1).
	CleanupPods map[int]*corev1.Pod
	// Node is the state of the node holding the workspace.
	Node    nodeState
	Options Options
}

// cleanupDecision is what to do next for the workspace cleanup.
type cleanupDecision struct {
	// Condition is the new WorkspaceCleaned condition, nil for no change.
	Condition *metav1.Condition
	// Create is the attempt whose cleanup pod is to be created, 0 for none.
	Create int
	// Delete are cleanup pods to delete.
	Delete []*corev1.Pod
	// Done is true once the cleanup is over, one way or the other: the
	// finalizer may go.
	Done         bool
	RequeueAfter time.Duration
}

// decideCleanup decides the cleanup of a run's workspace once the run has
// ended and all its task pods have stopped: done when the last task's pod
// ended with its workspace cleaner exited 0 (cleanedBySidecar), which is
// every run that got that far; nothing to clean when no pod reached a node;
// else cleanup pods on that node, one after the other, each
// after a growing backoff, until one succeeds or Options.CleanupAttempts have
// failed. The cleanup is abandoned, and says so, when the node is lost or a
// cleanup pod cannot be scheduled or started within its grace period. Failed
// cleanup pods are kept for their logs until the cleanup ends; then every
// cleanup pod is deleted (they are not owned by the Workplan, see cleanupPod).
func decideCleanup(in cleanupInput) cleanupDecision {
	st := &in.Workplan.Status
	if !st.Phase.Finished() {
		return cleanupDecision{}
	}
	if c := meta.FindStatusCondition(st.Conditions, kubeciv1.ConditionWorkspaceCleaned); c != nil && cleanupOver(c) {
		return cleanupDecision{Done: true, Delete: sortedPods(in.CleanupPods)}
	}
	c := &cleanupStep{in: in, dir: workspacePath(in.Options.WorkspaceRoot, in.Workplan)}
	if pod := cleanedBySidecar(in.Workplan, in.TaskPods); pod != nil {
		c.d.Done, c.d.Delete = true, sortedPods(in.CleanupPods)
		return c.set(metav1.ConditionTrue, kubeciv1.ReasonCleaned, "removed %s from node %s (the workspace cleaner of pod %s)",
			c.dir, pod.Spec.NodeName, pod.Name)
	}
	lost, why, wait := in.Node.lost(in.Now, in.Options.NodeLostGracePeriod)
	if lost {
		return c.abandon("%s", why)
	}
	c.d.RequeueAfter = wait
	for _, p := range sortedPods(in.TaskPods) {
		if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			return c.set(metav1.ConditionFalse, kubeciv1.ReasonCleanupPending, "waiting for pod %s to stop before removing the workspace", p.Name)
		}
	}
	if st.NodeName == "" {
		c.d.Done = true
		return c.set(metav1.ConditionTrue, kubeciv1.ReasonNothingToClean, "no pod of the run reached a node, so there is no workspace to remove")
	}
	if len(in.CleanupPods) == 0 {
		c.d.Create = 1
		return c.set(metav1.ConditionFalse, kubeciv1.ReasonCleanupPending, "pod %s removes %s from node %s",
			cleanupPodName(in.Workplan.Name, 1), c.dir, st.NodeName)
	}
	attempt := slices.Max(slices.Collect(maps.Keys(in.CleanupPods)))
	return c.follow(attempt, in.CleanupPods[attempt])
}

// cleanedBySidecar returns the last task's pod of wp when it has ended
// (Succeeded or Failed, so no step of the run runs any more) with its
// workspace cleaner terminated with exit code 0: the kubelet stopped the
// cleaner once the steps had exited and it removed the workspace. It returns
// nil in every other case, which a cleanup pod handles: the run ended before
// its last task's pod ran, that pod was deleted or lost, or its cleaner is
// missing, failed, or has no terminated state.
func cleanedBySidecar(wp *kubeciv1.Workplan, pods map[int]*corev1.Pod) *corev1.Pod {
	pod := pods[len(wp.Spec.Tasks)-1]
	if pod == nil || pod.Spec.NodeName == "" || (pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed) {
		return nil
	}
	if cs := cleanerStatus(pod); cs != nil && cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0 {
		return pod
	}
	return nil
}

// cleanupStep builds a cleanup decision.
type cleanupStep struct {
	in  cleanupInput
	dir string
	d   cleanupDecision
}

// follow decides from the latest cleanup pod, of the attempt-th attempt.
func (c *cleanupStep) follow(attempt int, pod *corev1.Pod) cleanupDecision {
	o, now := c.in.Options, c.in.Now
	switch {
	case pod.Status.Phase == corev1.PodSucceeded:
		c.d.Done, c.d.Delete = true, sortedPods(c.in.CleanupPods)
		return c.set(metav1.ConditionTrue, kubeciv1.ReasonCleaned, "removed %s from node %s", c.dir, c.in.Workplan.Status.NodeName)
	case pod.Status.Phase == corev1.PodFailed:
		failure := cleanupFailure(pod)
		if attempt >= o.CleanupAttempts {
			return c.abandon("%d cleanup pods failed, the last (%s) with %s", attempt, pod.Name, failure)
		}
		if retryAt := finishedAt(pod).Add(o.cleanupBackoff(attempt)); now.Before(retryAt) {
			c.d.RequeueAfter = soonest(c.d.RequeueAfter, retryAt.Sub(now))
		} else {
			c.d.Create = attempt + 1
		}
		// One message per failed attempt, the same while waiting and once the
		// next pod runs, so that each failure is reported once.
		return c.set(metav1.ConditionFalse, kubeciv1.ReasonCleanupFailed, "cleanup pod %s (attempt %d of %d) failed with %s; retrying after %s",
			pod.Name, attempt, o.CleanupAttempts, failure, o.cleanupBackoff(attempt))
	case pod.DeletionTimestamp != nil:
		return c.d
	case pod.Spec.NodeName == "":
		waited := now.Sub(pod.CreationTimestamp.Time)
		if waited >= o.UnschedulableGracePeriod {
			return c.abandon("cleanup pod %s was not scheduled within %s: %s", pod.Name, o.UnschedulableGracePeriod, schedulingMessage(pod))
		}
		c.d.RequeueAfter = soonest(c.d.RequeueAfter, o.UnschedulableGracePeriod-waited)
		return c.d
	}
	if _, w := firstStuckStep(pod, []string{cleanupContainer}); w != nil {
		waited := now.Sub(waitingSince(pod))
		if startErrors[w.Reason] == startPermanent || waited >= o.ImagePullGracePeriod {
			return c.abandon("cleanup pod %s could not start: %s: %s", pod.Name, w.Reason, w.Message)
		}
		c.d.RequeueAfter = soonest(c.d.RequeueAfter, o.ImagePullGracePeriod-waited)
	}
	return c.d
}

// set records the new WorkspaceCleaned condition and returns the decision.
func (c *cleanupStep) set(status metav1.ConditionStatus, reason, format string, args ...any) cleanupDecision {
	c.d.Condition = &metav1.Condition{
		Type:               kubeciv1.ConditionWorkspaceCleaned,
		Status:             status,
		Reason:             reason,
		Message:            kubeciv1.TruncateMessage(fmt.Sprintf(format, args...), maxReason),
		ObservedGeneration: c.in.Workplan.Generation,
		LastTransitionTime: metav1.Time{Time: c.in.Now},
	}
	return c.d
}

// abandon gives the cleanup up, saying why and what is left where.
func (c *cleanupStep) abandon(format string, args ...any) cleanupDecision {
	c.d.Done, c.d.Delete = true, sortedPods(c.in.CleanupPods)
	return c.set(metav1.ConditionFalse, kubeciv1.ReasonCleanupAbandoned, "gave up removing %s from node %s: %s; remove it by hand",
		c.dir, c.in.Workplan.Status.NodeName, fmt.Sprintf(format, args...))
}

// cleanupOver reports whether a WorkspaceCleaned condition is final.
func cleanupOver(c *metav1.Condition) bool {
	return c.Status == metav1.ConditionTrue || c.Reason == kubeciv1.ReasonCleanupAbandoned
}

// cleanupFailure says how a cleanup pod failed.
func cleanupFailure(pod *corev1.Pod) string {
	if cs := containerStatus(pod, cleanupContainer); cs != nil && cs.State.Terminated != nil {
		t := cs.State.Terminated
		if msg := terminationMessage(t); msg != "" {
			return fmt.Sprintf("exit code %d: %s", t.ExitCode, truncateHead(msg, 300))
		}
		return fmt.Sprintf("exit code %d", t.ExitCode)
	}
	return fmt.Sprintf("%s: %s", pod.Status.Reason, pod.Status.Message)
}

// finishedAt is when a failed pod ended, as precisely as its status says.
func finishedAt(pod *corev1.Pod) time.Time {
	if cs := containerStatus(pod, cleanupContainer); cs != nil && cs.State.Terminated != nil && !cs.State.Terminated.FinishedAt.IsZero() {
		return cs.State.Terminated.FinishedAt.Time
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	return pod.CreationTimestamp.Time
}

// reconcileCleanup removes the workspace of an ended run, then reports
// whether the finalizer may go.
func (r *Reconciler) reconcileCleanup(ctx context.Context, s *scope) (done bool, err error) {
	d := decideCleanup(cleanupInput{
		Now:         r.Clock.Now(),
		Workplan:    s.wp,
		TaskPods:    s.taskPods,
		CleanupPods: s.cleanupPods,
		Node:        s.node,
		Options:     r.Options,
	})
	if d.Condition != nil {
		meta.SetStatusCondition(&s.wp.Status.Conditions, *d.Condition)
	}
	s.requeue(d.RequeueAfter)
	for _, p := range d.Delete {
		if err := r.deletePod(ctx, p); err != nil {
			return false, err
		}
	}
	if d.Create > 0 {
		pod := cleanupPod(s.wp, d.Create, r.Options.WorkspaceRoot, s.wp.Status.NodeName, r.Options.CleanupImage)
		created, err := r.createPod(ctx, s.wp, pod)
		switch {
		case err == nil:
			if created {
				podsCreated.WithLabelValues(podKindCleanup).Inc()
			}
		case refusedForGood(err):
			// A namespace being deleted, or an admission policy, refuses the
			// pod: retrying cannot help, and the Workplan must not stay stuck.
			setCondition(&s.wp.Status, s.wp.Generation, kubeciv1.ConditionWorkspaceCleaned, metav1.ConditionFalse, kubeciv1.ReasonCleanupAbandoned,
				kubeciv1.TruncateMessage(fmt.Sprintf("gave up removing %s from node %s: the cleanup pod was refused: %v; remove it by hand",
					workspacePath(r.Options.WorkspaceRoot, s.wp), s.wp.Status.NodeName, err), maxReason), r.Clock.Now())
			log.FromContext(ctx).Info("cleanup pod refused; cleanup abandoned", "pod", pod.Name, "error", err.Error())
			return true, nil
		default:
			return false, fmt.Errorf("creating cleanup pod %s: %w", pod.Name, err)
		}
	}
	return d.Done, nil
}

// refusedForGood reports whether a create error is one retrying cannot fix:
// the request is forbidden (admission, a terminating namespace) or invalid.
// Exceeding a ResourceQuota is forbidden too but passes once other pods end,
// so it is retried.
func refusedForGood(err error) bool {
	if exceededQuota(err) {
		return false
	}
	return apierrors.IsForbidden(err) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) ||
		apierrors.IsRequestEntityTooLargeError(err) || apierrors.IsNotFound(err)
}
