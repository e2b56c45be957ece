package main

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// A simulated pod goes through these stages, one status write each:
//
//	0                 bound, nothing written yet
//	1 .. nInit        init container stage-1 runs (phase Pending)
//	nInit+1           the containers run (phase Running)
//	nInit+2           the containers exited 0 (phase Succeeded)
//
// A pod without init containers goes from 0 to 1 (Running) to 2 (Succeeded).
//
// nInit counts the regular init containers. A native sidecar (an init
// container with restartPolicy Always, as Kube CI's workspace cleaner in a
// run's last task pod) adds no stage of its own: a kubelet starts it just
// before the first regular init container and reports both in its next status
// write, so here it is running from stage 1 on; and a kubelet stops it once
// the containers have exited, before the pod may be reported Succeeded, so
// here it is written terminated (exit 0) in the write that ends the pod.

// podStage is the stage pod's status shows.
func podStage(pod *corev1.Pod) int {
	st := &pod.Status
	if st.StartTime == nil {
		return 0
	}
	nInit := regularInits(pod)
	switch st.Phase {
	case corev1.PodSucceeded, corev1.PodFailed:
		return nInit + 2
	case corev1.PodRunning:
		return nInit + 1
	}
	done := 0
	for i, cs := range st.InitContainerStatuses {
		if cs.State.Terminated != nil && (i >= len(pod.Spec.InitContainers) || !isSidecar(pod.Spec.InitContainers[i])) {
			done++
		}
	}
	return min(done+1, nInit+1)
}

// isSidecar reports whether an init container is a native sidecar.
func isSidecar(c corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// regularInits counts pod's init containers that are not sidecars.
func regularInits(pod *corev1.Pod) int {
	n := 0
	for _, c := range pod.Spec.InitContainers {
		if !isSidecar(c) {
			n++
		}
	}
	return n
}

// podStatusAt is the status of pod's next stage after stage, written at now;
// nil once the pod has finished. Containers each ran for as long as the
// stages before say; only the last transition is at now.
func podStatusAt(pod *corev1.Pod, stage int, now time.Time) *corev1.PodStatus {
	nInit := regularInits(pod)
	next := stage + 1
	if next > nInit+2 {
		return nil
	}
	t := metav1.NewTime(now)
	st := pod.Status.DeepCopy()
	if st.StartTime == nil {
		st.StartTime = &t
	}
	st.HostIP = "127.0.0.1"
	st.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	// status.qosClass is the API server's, set at creation from the
	// containers' resources, and immutable: a kubelet leaves it alone. (Writing
	// BestEffort here once made every status write of a pod with resources,
	// Kube CI's cleanup pods, fail as invalid, so they never ran.)

	finishedInit := min(next-1, nInit)
	st.InitContainerStatuses = make([]corev1.ContainerStatus, len(pod.Spec.InitContainers))
	i := 0 // index among the regular init containers
	for k, c := range pod.Spec.InitContainers {
		cs := containerStatus(c, prevState(pod.Status.InitContainerStatuses, c.Name))
		switch {
		case isSidecar(c) && next == nInit+2:
			cs.State = terminatedSince(runningSince(cs.State, t), t)
			cs.Ready = false
		case isSidecar(c):
			cs.State = runningSince(cs.State, t)
			cs.Ready, cs.Started = true, ptr.To(true)
		case i < finishedInit:
			cs.State = terminatedSince(cs.State, t)
		case i == finishedInit:
			cs.State = runningSince(cs.State, t)
		}
		if !isSidecar(c) {
			i++
		}
		st.InitContainerStatuses[k] = cs
	}
	st.ContainerStatuses = make([]corev1.ContainerStatus, len(pod.Spec.Containers))
	for i, c := range pod.Spec.Containers {
		cs := containerStatus(c, prevState(pod.Status.ContainerStatuses, c.Name))
		switch {
		case next == nInit+1:
			cs.State = runningSince(cs.State, t)
			cs.Ready, cs.Started = true, ptr.To(true)
		case next == nInit+2:
			cs.State = terminatedSince(runningSince(cs.State, t), t)
		}
		st.ContainerStatuses[i] = cs
	}

	initialized, ready := corev1.ConditionFalse, corev1.ConditionFalse
	readyReason := "ContainersNotReady"
	switch next {
	case nInit + 1:
		st.Phase = corev1.PodRunning
		initialized, ready, readyReason = corev1.ConditionTrue, corev1.ConditionTrue, ""
	case nInit + 2:
		st.Phase = corev1.PodSucceeded
		initialized, readyReason = corev1.ConditionTrue, "PodCompleted"
	default:
		st.Phase = corev1.PodPending
	}
	st.Conditions = []corev1.PodCondition{
		condition(pod, corev1.PodReadyToStartContainers, corev1.ConditionTrue, "", t),
		condition(pod, corev1.PodInitialized, initialized, "", t),
		condition(pod, corev1.PodReady, ready, readyReason, t),
		condition(pod, corev1.ContainersReady, ready, readyReason, t),
		condition(pod, corev1.PodScheduled, corev1.ConditionTrue, "", t),
	}
	return st
}

// containerStatus is c's status, waiting to start unless prev says more.
func containerStatus(c corev1.Container, prev *corev1.ContainerState) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "simulated://" + c.Image, Started: ptr.To(false),
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}}
	if prev != nil && prev.Waiting == nil {
		cs.State = *prev.DeepCopy()
	}
	if cs.State.Running != nil || cs.State.Terminated != nil {
		cs.ContainerID = "simulated://" + c.Name
	}
	return cs
}

func prevState(statuses []corev1.ContainerStatus, name string) *corev1.ContainerState {
	for i := range statuses {
		if statuses[i].Name == name {
			return &statuses[i].State
		}
	}
	return nil
}

// runningSince is s when it already runs or ended, else running from t.
func runningSince(s corev1.ContainerState, t metav1.Time) corev1.ContainerState {
	if s.Running != nil || s.Terminated != nil {
		return s
	}
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: t}}
}

// terminatedSince is s ended with exit code 0 at t, unless it already ended.
func terminatedSince(s corev1.ContainerState, t metav1.Time) corev1.ContainerState {
	if s.Terminated != nil {
		return s
	}
	started := t
	if s.Running != nil {
		started = s.Running.StartedAt
	}
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 0, Reason: "Completed", StartedAt: started, FinishedAt: t}}
}

// condition is a pod condition, keeping its transition time when its status
// did not change.
func condition(pod *corev1.Pod, typ corev1.PodConditionType, status corev1.ConditionStatus, reason string, t metav1.Time) corev1.PodCondition {
	c := corev1.PodCondition{Type: typ, Status: status, Reason: reason, LastTransitionTime: t}
	for _, prev := range pod.Status.Conditions {
		if prev.Type == typ && prev.Status == status {
			c.LastTransitionTime = prev.LastTransitionTime
		}
	}
	return c
}
