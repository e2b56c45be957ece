package workplan

import (
	"fmt"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
)

// maxStepMessage bounds a step's message (the CRD allows 1024 characters).
const maxStepMessage = 1000

// stepKey identifies a step of a run.
type stepKey struct {
	task int32
	name string
}

// stepStatuses returns the status of every step of wp in plan order: read
// from the container statuses of the task pods that exist, else kept as
// recorded before (a finished task's pod may be gone), else Waiting.
func stepStatuses(wp *kubeciv1.Workplan, pods map[int]*corev1.Pod) []kubeciv1.StepStatus {
	recorded := make(map[stepKey]kubeciv1.StepStatus, len(wp.Status.Steps))
	for _, s := range wp.Status.Steps {
		recorded[stepKey{s.Task, s.Name}] = s
	}
	var out []kubeciv1.StepStatus
	for _, ts := range plan.Steps(wp.Spec.Tasks) {
		key := stepKey{int32(ts.Task), ts.Step.Name}
		st, ok := recorded[key]
		if !ok {
			st = kubeciv1.StepStatus{Name: ts.Step.Name, Task: int32(ts.Task), Phase: kubeciv1.StepWaiting}
		}
		if cs := containerStatus(pods[ts.Task], ts.Step.Name); cs != nil {
			st = observeContainer(*st.DeepCopy(), cs)
		}
		out = append(out, st)
	}
	return out
}

// containerStatus finds the status of the named container (init or not) of
// pod, or nil.
func containerStatus(pod *corev1.Pod, name string) *corev1.ContainerStatus {
	if pod == nil {
		return nil
	}
	for _, list := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// observeContainer updates a step's status from its container's status.
func observeContainer(st kubeciv1.StepStatus, cs *corev1.ContainerStatus) kubeciv1.StepStatus {
	switch {
	case cs.State.Terminated != nil:
		t := cs.State.Terminated
		st.Phase = kubeciv1.StepSucceeded
		st.Message = ""
		if t.ExitCode != 0 {
			st.Phase = kubeciv1.StepFailed
			st.Message = terminationMessage(t)
		}
		st.ExitCode = ptr.To(t.ExitCode)
		st.StartTime = timeOrNil(t.StartedAt)
		st.FinishTime = timeOrNil(t.FinishedAt)
	case cs.State.Running != nil:
		st.Phase = kubeciv1.StepRunning
		st.Message = ""
		st.StartTime = timeOrNil(cs.State.Running.StartedAt)
	case cs.State.Waiting != nil:
		st.Phase = kubeciv1.StepWaiting
		st.Message = ""
		if w := cs.State.Waiting; startErrors[w.Reason] != startOK {
			st.Message = kubeciv1.TruncateMessage(fmt.Sprintf("%s: %s", w.Reason, w.Message), maxStepMessage)
		}
	}
	return st
}

// terminationMessage explains a non-zero exit: the reason when it says more
// than "Error" (OOMKilled...), then the container's termination message,
// which is the tail of its log (keeping the end, which says most).
func terminationMessage(t *corev1.ContainerStateTerminated) string {
	msg := ""
	if t.Reason != "" && t.Reason != "Error" {
		msg = t.Reason
	}
	if t.Message != "" {
		if msg != "" {
			msg += ": "
		}
		msg += t.Message
	}
	return truncateHead(msg, maxStepMessage)
}

// endSteps freezes the steps of a run that just ended: steps whose container
// could not start (the kubelet's reason is in their message) are Failed, as
// they are in a local run; other steps that never started are Skipped; steps
// still running are Failed (their pod is being stopped) with why.
func endSteps(steps []kubeciv1.StepStatus, why string) {
	for i := range steps {
		switch steps[i].Phase {
		case kubeciv1.StepWaiting:
			steps[i].Phase = kubeciv1.StepSkipped
			if steps[i].Message != "" {
				steps[i].Phase = kubeciv1.StepFailed
			}
		case kubeciv1.StepRunning:
			steps[i].Phase = kubeciv1.StepFailed
			steps[i].Message = kubeciv1.TruncateMessage("stopped: "+why, maxStepMessage)
		}
	}
}

func timeOrNil(t metav1.Time) *metav1.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// truncateHead keeps the last max characters of s, marking the cut.
func truncateHead(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return "..." + string(r[len(r)-max+3:])
}
