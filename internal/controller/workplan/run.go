package workplan

import (
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"
)

// noTask is runDecision.Create when no pod is to be created.
const noTask = -1

// runInput is everything the run's next step is decided from.
type runInput struct {
	Now      time.Time
	Workplan *kubeciv1.Workplan
	// Pods are the run's task pods that exist, by task index.
	Pods map[int]*corev1.Pod
	// Node is the state of the node holding the run's workspace.
	Node    nodeState
	Options Options
}

// runDecision is what to do next for a run.
type runDecision struct {
	// Status is the run's new status (the WorkspaceCleaned condition is left
	// to the cleanup decision).
	Status kubeciv1.WorkplanStatus
	// Create is the task whose pod is to be created, or noTask.
	Create int
	// Stop are task pods to stop: the run's end is saved and they still
	// run.
	Stop []*corev1.Pod
	// RequeueAfter, when positive, is when to look again if nothing happens:
	// a deadline or a grace period running out.
	RequeueAfter time.Duration
}

// decideRun decides a run's next step from its Workplan and pods alone, so
// that an operator restarted at any moment carries on where it stood:
//
//   - An ended run (Completed or Failed) never changes its outcome; pods it
//     still has running are stopped (once the end is saved).
//   - The current task is status.taskIndex, moved past every task whose pod
//     succeeded.
//   - A run being deleted, cancelled or past its deadline ends Failed.
//   - The current task's pod is created when it does not exist yet. When the
//     status says it was created (podName) it was deleted from outside, and
//     the run ends Failed.
//   - Otherwise the pod's state decides: the last task's pod succeeding
//     completes the run; a failed step, an eviction, a lost node, or a pod
//     that cannot be scheduled or started within its grace period fails it.
func decideRun(in runInput) runDecision {
	wp := in.Workplan
	st := *wp.Status.DeepCopy()
	d := runDecision{Create: noTask}
	st.ObservedGeneration = wp.Generation
	if st.Phase == "" {
		st.Phase = kubeciv1.WorkplanPending
	}
	if st.NodeName == "" {
		st.NodeName = firstNode(in.Pods)
	}
	if st.Phase.Finished() {
		d.Stop = activePods(in.Pods)
		d.Status = st
		return d
	}

	n := len(wp.Spec.Tasks)
	if n == 0 {
		endRun(&st, wp.Generation, kubeciv1.ReasonPodRejected, "the Workplan has no tasks: spec.tasks is empty", in.Now)
		d.Status = st
		return d
	}
	i := advance(&st, in)
	// A run that ends stops its pods only once its end is saved (the next
	// reconcile, which the status update triggers): acting first could,
	// should the save fail, leave a later reconcile to mistake the stopped
	// pod for one deleted from outside.
	end := func(reason, message string) runDecision {
		endRun(&st, wp.Generation, reason, message, in.Now)
		d.Status, d.RequeueAfter = st, 0
		return d
	}

	reason, message, recheck := stopReason(wp, in.Now)
	if reason != "" {
		return end(reason, message)
	}
	d.RequeueAfter = recheck

	pod := in.Pods[i]
	podName := names.TaskPod(wp.Name, i)
	if pod == nil {
		if st.PodName == podName {
			return end(kubeciv1.ReasonPodLost, fmt.Sprintf("pod %s of task %d was deleted before it finished", podName, i))
		}
		lost, why, wait := in.Node.lost(in.Now, in.Options.NodeLostGracePeriod)
		switch {
		case lost:
			return end(kubeciv1.ReasonPodLost, fmt.Sprintf("task %d cannot start: %s, and the run's workspace is on it", i, why))
		case wait > 0:
			d.RequeueAfter = soonest(d.RequeueAfter, wait)
			setProgress(&st, wp.Generation, fmt.Sprintf("task %d waits for node %s, which holds the run's workspace, to become Ready", i, in.Node.Name), in.Now)
		default:
			d.Create = i
			setProgress(&st, wp.Generation, fmt.Sprintf("task %d: creating pod %s", i, podName), in.Now)
		}
		d.Status = st
		return d
	}

	st.PodName = pod.Name
	out := evalTaskPod(pod, i, plan.StepNames(wp.Spec.Tasks[i].SerialSteps, wp.Spec.Tasks[i].ParallelSteps), in.Node, in.Now, in.Options)
	switch out.verdict {
	case podSucceeded:
		return end(kubeciv1.ReasonCompleted, fmt.Sprintf("all %d tasks succeeded", n))
	case podFailed:
		return end(out.reason, out.message)
	}
	d.RequeueAfter = soonest(d.RequeueAfter, out.recheck)
	if out.progress == "" {
		out.progress = progress(pod, i)
	}
	setProgress(&st, wp.Generation, out.progress, in.Now)
	d.Status = st
	return d
}

// advance brings a run's progress up to date with its pods: the current task
// moves past every task whose pod succeeded, steps are read from the pods,
// and the run is Running once a step started. It returns the current task.
func advance(st *kubeciv1.WorkplanStatus, in runInput) int {
	n := len(in.Workplan.Spec.Tasks)
	i := min(max(int(st.TaskIndex), 0), n-1)
	for i < n-1 && in.Pods[i] != nil && in.Pods[i].Status.Phase == corev1.PodSucceeded {
		i++
	}
	st.TaskIndex = int32(i)
	st.Steps = stepStatuses(in.Workplan, in.Pods)
	if started(in.Pods) {
		st.Phase = kubeciv1.WorkplanRunning
		if st.StartTime == nil {
			st.StartTime = startTime(in.Pods, in.Now)
		}
	}
	return i
}

// endRun ends a run: Completed for reason Completed, else Failed. Steps that
// did not end are Skipped or Failed, and the workspace cleanup is pending.
func endRun(st *kubeciv1.WorkplanStatus, generation int64, reason, message string, now time.Time) {
	status := metav1.ConditionFalse
	st.Phase = kubeciv1.WorkplanFailed
	if reason == kubeciv1.ReasonCompleted {
		status = metav1.ConditionTrue
		st.Phase = kubeciv1.WorkplanCompleted
	}
	st.Reason = kubeciv1.TruncateMessage(message, maxReason)
	st.CompletionTime = &metav1.Time{Time: now}
	endSteps(st.Steps, message)
	setCondition(st, generation, kubeciv1.ConditionSucceeded, status, reason, st.Reason, now)
	if meta.FindStatusCondition(st.Conditions, kubeciv1.ConditionWorkspaceCleaned) == nil {
		setCondition(st, generation, kubeciv1.ConditionWorkspaceCleaned, metav1.ConditionFalse,
			kubeciv1.ReasonCleanupPending, "the workspace is removed once the run's pods have stopped", now)
	}
}

// maxReason bounds status.reason (the CRD allows 2048 characters).
const maxReason = 2000

// setProgress records what a run that goes on is doing.
func setProgress(st *kubeciv1.WorkplanStatus, generation int64, message string, now time.Time) {
	st.Reason = kubeciv1.TruncateMessage(message, maxReason)
	setCondition(st, generation, kubeciv1.ConditionSucceeded, metav1.ConditionUnknown, kubeciv1.ReasonRunning, st.Reason, now)
}

func setCondition(st *kubeciv1.WorkplanStatus, generation int64, typ string, status metav1.ConditionStatus, reason, message string, now time.Time) {
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: generation,
		LastTransitionTime: metav1.Time{Time: now},
	})
}

// progress describes the current task's pod.
func progress(pod *corev1.Pod, task int) string {
	switch {
	case pod.Spec.NodeName == "":
		return fmt.Sprintf("task %d: pod %s waits for a node", task, pod.Name)
	case pod.Status.Phase == corev1.PodRunning:
		return fmt.Sprintf("task %d: pod %s runs on node %s", task, pod.Name, pod.Spec.NodeName)
	}
	return fmt.Sprintf("task %d: pod %s is starting on node %s", task, pod.Name, pod.Spec.NodeName)
}

// firstNode is the node of the first task pod that has one: where the
// scheduler placed the run.
func firstNode(pods map[int]*corev1.Pod) string {
	for _, p := range sortedPods(pods) {
		if p.Spec.NodeName != "" {
			return p.Spec.NodeName
		}
	}
	return ""
}

// started reports whether a step of the run has started. A pod stays
// Pending while its init containers (the serial steps) run, so the pod's phase
// alone would not tell. The workspace cleaner, which starts before the steps
// of the last task's pod, is no step.
func started(pods map[int]*corev1.Pod) bool {
	for _, p := range pods {
		if p.Status.Phase == corev1.PodRunning || p.Status.Phase == corev1.PodSucceeded {
			return true
		}
		for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
			if (cs.State.Running != nil || cs.State.Terminated != nil) && !isCleaner(p, cs.Name) {
				return true
			}
		}
	}
	return false
}

// startTime is when the run's first pod started, or now when no pod says.
func startTime(pods map[int]*corev1.Pod, now time.Time) *metav1.Time {
	var first *metav1.Time
	for _, p := range pods {
		if t := p.Status.StartTime; t != nil && (first == nil || t.Before(first)) {
			first = t.DeepCopy()
		}
	}
	if first == nil {
		first = &metav1.Time{Time: now}
	}
	return first
}

// activePods are the pods that still run and are not being deleted.
func activePods(pods map[int]*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range sortedPods(pods) {
		if active(p) {
			out = append(out, p)
		}
	}
	return out
}

// active reports whether pod still runs (or may) and is not being deleted.
func active(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

// sortedPods lists pods by task index.
func sortedPods(pods map[int]*corev1.Pod) []*corev1.Pod {
	out := make([]*corev1.Pod, 0, len(pods))
	for _, i := range slices.Sorted(maps.Keys(pods)) {
		out = append(out, pods[i])
	}
	return out
}
