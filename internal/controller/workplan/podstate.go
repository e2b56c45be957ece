package workplan

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// podVerdict is where a task's pod stands.
type podVerdict int

const (
	// podPending: the pod waits for a node or for its containers to start.
	podPending podVerdict = iota
	// podRunning: the pod runs.
	podRunning
	// podSucceeded: every container of the pod exited 0.
	podSucceeded
	// podFailed: the task failed; reason and message say why.
	podFailed
)

// podOutcome is the verdict on a task's pod, and when it should be looked at
// again if nothing happens before (a grace period running out).
type podOutcome struct {
	verdict podVerdict
	// reason is the Succeeded condition's reason when the pod failed.
	reason string
	// message is the Workplan's status.reason when the pod failed.
	message string
	// recheck, when positive, is when a grace period would run out.
	recheck time.Duration
	// progress, when not empty, describes a pod that goes on.
	progress string
}

// startError classifies the reason a container is waiting.
type startError int

const (
	// startOK: the container is on its way (or the reason is unknown).
	startOK startError = iota
	// startRetry: the container cannot start yet; the kubelet retries, and the
	// step fails once the image pull grace period runs out.
	startRetry
	// startPermanent: retrying cannot help; the step fails at once.
	startPermanent
)

// startErrors are the kubelet's reasons for a container that cannot start.
var startErrors = map[string]startError{
	"ErrImagePull":               startRetry,
	"ImagePullBackOff":           startRetry,
	"CreateContainerConfigError": startRetry,
	"CreateContainerError":       startRetry,
	"RunContainerError":          startRetry,
	"InvalidImageName":           startPermanent,
	"ErrImageNeverPull":          startPermanent,
}

// evalTaskPod judges the pod of task (its containers named steps, in the
// order they run) at now, given the state of the run's node. The checks go
// from the most to the least specific cause, so that a step's own exit code
// is reported rather than the pod failure it caused.
func evalTaskPod(pod *corev1.Pod, task int, steps []string, node nodeState, now time.Time, o Options) podOutcome {
	where := fmt.Sprintf("pod %s of task %d", pod.Name, task)
	switch {
	case pod.Status.Phase == corev1.PodSucceeded:
		return podOutcome{verdict: podSucceeded}
	case evicted(pod):
		return failed(kubeciv1.ReasonPodLost, fmt.Sprintf("%s was evicted from node %s: %s", where, pod.Spec.NodeName, evictionMessage(pod)))
	case pod.DeletionTimestamp != nil:
		return failed(kubeciv1.ReasonPodLost, where+" was deleted before it finished")
	}
	if step, t := firstFailedStep(pod, steps); t != nil {
		if pod.Status.Phase == corev1.PodFailed {
			return failed(kubeciv1.ReasonStepFailed, stepFailedMessage(step, task, t))
		}
		// The task's other steps finish first, as they do in a local run; the
		// run fails once the pod has stopped, and the pod stays for its logs.
		return podOutcome{verdict: podRunning, progress: stepFailedMessage(step, task, t) +
			"; the run fails once the task's other steps have finished"}
	}
	if pod.Status.Phase == corev1.PodFailed {
		return failed(kubeciv1.ReasonPodLost, fmt.Sprintf("%s failed on node %s: %s: %s", where, pod.Spec.NodeName, pod.Status.Reason, pod.Status.Message))
	}
	lost, why, recheck := node.lost(now, o.NodeLostGracePeriod)
	if lost {
		return failed(kubeciv1.ReasonPodLost, fmt.Sprintf("%s is lost: %s", where, why))
	}
	out := podOutcome{recheck: recheck}
	if pod.Spec.NodeName == "" {
		waited := now.Sub(pod.CreationTimestamp.Time)
		if waited >= o.UnschedulableGracePeriod {
			return failed(kubeciv1.ReasonUnschedulable, fmt.Sprintf("%s was not scheduled within %s: %s", where, o.UnschedulableGracePeriod, schedulingMessage(pod)))
		}
		return podOutcome{verdict: podPending, recheck: soonest(out.recheck, o.UnschedulableGracePeriod-waited)}
	}
	if what, w := firstStuckContainer(pod, task, steps); w != nil {
		message := fmt.Sprintf("%s could not start: %s: %s", what, w.Reason, w.Message)
		if startErrors[w.Reason] == startPermanent {
			return failed(kubeciv1.ReasonStepFailed, message)
		}
		waited := now.Sub(waitingSince(pod))
		if waited >= o.ImagePullGracePeriod {
			return failed(kubeciv1.ReasonStepFailed, fmt.Sprintf("%s (for more than %s)", message, o.ImagePullGracePeriod))
		}
		out.recheck = soonest(out.recheck, o.ImagePullGracePeriod-waited)
	}
	out.verdict = podPending
	if pod.Status.Phase == corev1.PodRunning {
		out.verdict = podRunning
	}
	return out
}

func failed(reason, message string) podOutcome {
	return podOutcome{verdict: podFailed, reason: reason, message: message}
}

// stepFailedMessage says which step failed and how, for example
// `step "build" (task 1) failed with exit code 137 (OOMKilled)`.
func stepFailedMessage(step string, task int, t *corev1.ContainerStateTerminated) string {
	msg := fmt.Sprintf("step %q (task %d) failed with exit code %d", step, task, t.ExitCode)
	if t.Reason != "" && t.Reason != "Error" {
		msg += " (" + t.Reason + ")"
	}
	return msg
}

// firstFailedStep returns the first step, in run order, whose container
// exited non-zero.
func firstFailedStep(pod *corev1.Pod, steps []string) (string, *corev1.ContainerStateTerminated) {
	for _, step := range steps {
		if cs := containerStatus(pod, step); cs != nil && cs.State.Terminated != nil && cs.State.Terminated.ExitCode != 0 {
			return step, cs.State.Terminated
		}
	}
	return "", nil
}

// firstStuckContainer says which container of the task's pod, in run order,
// waits for a reason that is an error: the workspace cleaner, which starts
// first in the last task's pod, or a step.
func firstStuckContainer(pod *corev1.Pod, task int, steps []string) (string, *corev1.ContainerStateWaiting) {
	if cs := cleanerStatus(pod); cs != nil && cs.State.Waiting != nil && startErrors[cs.State.Waiting.Reason] != startOK {
		return fmt.Sprintf("the workspace cleaner (container %s of task %d, Kube CI's image)", cleanerContainer, task), cs.State.Waiting
	}
	if step, w := firstStuckStep(pod, steps); w != nil {
		return fmt.Sprintf("step %q (task %d)", step, task), w
	}
	return "", nil
}

// firstStuckStep returns the first step, in run order, whose container waits
// for a reason that is an error.
func firstStuckStep(pod *corev1.Pod, steps []string) (string, *corev1.ContainerStateWaiting) {
	for _, step := range steps {
		if cs := containerStatus(pod, step); cs != nil && cs.State.Waiting != nil && startErrors[cs.State.Waiting.Reason] != startOK {
			return step, cs.State.Waiting
		}
	}
	return "", nil
}

// waitingSince estimates since when the pod's next container has been trying
// to start: the last time one of its containers finished, else when the
// kubelet took the pod, else its creation. Container waiting states carry no
// time of their own.
func waitingSince(pod *corev1.Pod) time.Time {
	since := pod.CreationTimestamp.Time
	if pod.Status.StartTime != nil {
		since = pod.Status.StartTime.Time
	}
	for _, cs := range pod.Status.InitContainerStatuses {
		if t := cs.State.Terminated; t != nil && t.FinishedAt.After(since) && !isCleaner(pod, cs.Name) {
			since = t.FinishedAt.Time
		}
	}
	return since
}

// evicted reports whether the pod was evicted or is being disrupted (node
// pressure, preemption, taint eviction).
func evicted(pod *corev1.Pod) bool {
	if pod.Status.Reason == "Evicted" {
		return true
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func evictionMessage(pod *corev1.Pod) string {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Message != "" {
			return c.Message
		}
	}
	if pod.Status.Message != "" {
		return pod.Status.Message
	}
	return pod.Status.Reason
}

// schedulingMessage is the scheduler's explanation of an unscheduled pod.
func schedulingMessage(pod *corev1.Pod) string {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Message != "" {
			return c.Message
		}
	}
	return "no scheduler has placed it"
}

// soonest returns the smaller positive duration of a and b (0 when neither is).
func soonest(a, b time.Duration) time.Duration {
	switch {
	case a <= 0:
		return max(b, 0)
	case b <= 0:
		return a
	}
	return min(a, b)
}
