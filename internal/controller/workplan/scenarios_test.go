package workplan

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/runscenario"
)

// The Workplan controller's decisions end the run and every step of every
// scenario of the table shared with the local run (internal/runscenario) as
// the table says: phase, exit code and message. Each scenario is played from
// the Workplan and its pods alone: decideRun is stepped, the pods it creates
// are bound, and their containers run as the scenario says, in two stages as
// a kubelet reports them (see playPod), until the run ends.
func TestRunScenarios(t *testing.T) {
	runscenario.Each(t, runscenario.Cluster, func(t *testing.T, sc runscenario.Scenario) (kubeciv1.WorkplanPhase, string, []kubeciv1.StepStatus) {
		wp, err := plan.NewWorkplan(sc.Workflow(), kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}, "scenario-run")
		if err != nil {
			t.Fatal(err)
		}
		wp.Generation, wp.CreationTimestamp = 1, metav1.Time{Time: t0}
		st := playRun(t, sc, wp)
		return st.Phase, st.Reason, st.Steps
	})
}

// playRun steps decideRun until the run ends and returns its last status.
// When nothing is to happen, the clock moves on to the decision's requeue
// (a grace period running out), or the run is cancelled if the scenario says
// so.
func playRun(t *testing.T, sc runscenario.Scenario, wp *kubeciv1.Workplan) kubeciv1.WorkplanStatus {
	t.Helper()
	pods := map[int]*corev1.Pod{}
	stages := map[int]int{} // by task, the stages played
	node := observeNode("node-a", readyNode("node-a"))
	now := t0
	for range 50 {
		d := decideRun(runInput{Now: now, Workplan: wp, Pods: pods, Node: node, Options: testOptions})
		wp.Status = d.Status
		task := int(wp.Status.TaskIndex)
		switch {
		case wp.Status.Phase.Finished():
			return wp.Status
		case d.Create != noTask:
			pods[d.Create] = podOf(t, wp, d.Create, boundTo("node-a"))
		case pods[task] != nil && stages[task] < 2:
			stages[task]++
			playPod(pods[task], sc, stages[task])
		case sc.Cancel != "" && !wp.Spec.Cancelled:
			wp.Spec.Cancelled = true
		default:
			now = now.Add(max(d.RequeueAfter, time.Second))
		}
	}
	t.Fatalf("the run did not end: %s, %s", wp.Status.Phase, wp.Status.Reason)
	return wp.Status
}

// playPod plays stage 1 or 2 of a task pod as a kubelet reports it, its
// containers ending as sc says. Stage 1: the serial steps (init containers)
// run in turn until one does not succeed (it exits non-zero, cannot start or
// runs until the run is cancelled); once they all succeeded, the parallel
// steps start and those that fail have already exited. Stage 2: the other
// parallel steps exit, and the pod ends unless a step never will.
func playPod(pod *corev1.Pod, sc runscenario.Scenario, stage int) {
	now := metav1.Time{Time: t0}
	state := func(name string) (corev1.ContainerState, bool) {
		if why, ok := sc.CannotStart[name]; ok {
			return waiting("ErrImagePull", why), false
		}
		if name == sc.Cancel {
			return runningState(t0), false
		}
		code := sc.Fail[name]
		return exited(code, t0, t0), code == 0
	}
	if stage == 1 {
		setStates(pod, nil) // every container waits to start
		pod.Status.Phase = corev1.PodPending
		for i := range pod.Status.InitContainerStatuses {
			cs := &pod.Status.InitContainerStatuses[i]
			st, ok := state(cs.Name)
			cs.State = st
			if !ok {
				if st.Terminated != nil {
					pod.Status.Phase = corev1.PodFailed
				}
				return
			}
		}
		pod.Status.Phase = corev1.PodRunning
		for i := range pod.Status.ContainerStatuses {
			cs := &pod.Status.ContainerStatuses[i]
			if st, ok := state(cs.Name); !ok {
				cs.State = st
			} else {
				cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
			}
		}
		return
	}
	if pod.Status.Phase != corev1.PodRunning {
		return
	}
	phase := corev1.PodSucceeded
	for i := range pod.Status.ContainerStatuses {
		cs := &pod.Status.ContainerStatuses[i]
		st, ok := state(cs.Name)
		if !isStep(sc, cs.Name) {
			st, ok = exited(0, t0, t0), true // a container of the operator's own
		}
		switch {
		case st.Terminated == nil:
			phase = corev1.PodRunning // a step that never ends on its own keeps the pod running
			continue
		case !ok && phase != corev1.PodRunning:
			phase = corev1.PodFailed
		}
		cs.State = st
	}
	pod.Status.Phase = phase
}

func isStep(sc runscenario.Scenario, name string) bool {
	_, ok := sc.Want[name]
	return ok
}
