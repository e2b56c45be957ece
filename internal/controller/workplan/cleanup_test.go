package workplan

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// cleanupSummary is what the table tests check of a cleanup decision.
type cleanupSummary struct {
	Status       metav1.ConditionStatus
	Reason       string
	Message      string
	Create       int
	Delete       []string
	Done         bool
	RequeueAfter time.Duration
}

func summarizeCleanup(d cleanupDecision) cleanupSummary {
	s := cleanupSummary{Create: d.Create, Done: d.Done, RequeueAfter: d.RequeueAfter}
	if c := d.Condition; c != nil {
		s.Status, s.Reason, s.Message = c.Status, c.Reason, c.Message
	}
	for _, p := range d.Delete {
		s.Delete = append(s.Delete, p.Name)
	}
	return s
}

// cleanupPodOf builds the attempt-th cleanup pod of wp, then applies changes.
func cleanupPodOf(wp *kubeciv1.Workplan, attempt int, changes ...func(*corev1.Pod)) *corev1.Pod {
	pod := cleanupPod(wp, attempt, testOptions.WorkspaceRoot, "node-a", testOptions.CleanupImage)
	pod.CreationTimestamp = metav1.Time{Time: t0}
	pod.Status.Phase = corev1.PodPending
	for _, c := range changes {
		c(pod)
	}
	return pod
}

func cleanupExited(code int32, at time.Time) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		phase := corev1.PodSucceeded
		if code != 0 {
			phase = corev1.PodFailed
		}
		ended(phase, map[string]corev1.ContainerState{cleanupContainer: exited(code, at, at)})(p)
		if code != 0 {
			p.Status.ContainerStatuses[0].State.Terminated.Message = "rm: can't remove '/workspaces/x/f': Operation not permitted"
		}
	}
}

// Every path of the workspace cleanup.
func TestDecideCleanup(t *testing.T) {
	o := testOptions
	now := t0.Add(time.Minute)
	podEnded := ended
	ended := withStatus(docWorkplan(t), func(st *kubeciv1.WorkplanStatus) {
		st.Phase, st.NodeName, st.PodName = kubeciv1.WorkplanFailed, "node-a", taskPodName(0)
	})
	dir := "/kubeci/default/my-workflow/my-workflow-run1"
	ready := observeNode("node-a", readyNode("node-a"))
	stopped := map[int]*corev1.Pod{0: podOf(t, ended, 0, boundTo("node-a"), succeeded)}
	failedAt := func(attempt int, at time.Time) map[int]*corev1.Pod {
		pods := map[int]*corev1.Pod{}
		for a := 1; a < attempt; a++ {
			pods[a] = cleanupPodOf(ended, a, cleanupExited(1, t0))
		}
		pods[attempt] = cleanupPodOf(ended, attempt, boundTo("node-a"), cleanupExited(1, at))
		return pods
	}
	failedMessage := func(attempt int, backoff string) string {
		return "cleanup pod " + cleanupPodName(ended.Name, attempt) + " (attempt " + strconv.Itoa(attempt) + " of 5) failed with exit code 1: " +
			"rm: can't remove '/workspaces/x/f': Operation not permitted; retrying after " + backoff
	}
	allCleanupPods := func(n int) []string {
		var out []string
		for a := 1; a <= n; a++ {
			out = append(out, cleanupPodName(ended.Name, a))
		}
		return out
	}

	// The run got to its last task, whose pod carries the workspace cleaner.
	lastRan := func(phase corev1.PodPhase, codes map[string]int32, drop ...string) map[int]*corev1.Pod {
		last := podOf(t, ended, 1, boundTo("node-a"), func(p *corev1.Pod) {
			states := allExited(p)
			for name, code := range codes {
				states[name] = exited(code, t0.Add(2*time.Second), t0.Add(3*time.Second))
			}
			podEnded(phase, states)(p)
			p.Status.InitContainerStatuses = slices.DeleteFunc(p.Status.InitContainerStatuses, func(cs corev1.ContainerStatus) bool {
				return slices.Contains(drop, cs.Name)
			})
		})
		return map[int]*corev1.Pod{0: stopped[0], 1: last}
	}
	bySidecar := "removed " + dir + " from node node-a (the workspace cleaner of pod my-workflow-run1-task-1)"
	firstCleanupPod := cleanupSummary{Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonCleanupPending,
		Message: "pod my-workflow-run1-cleanup removes " + dir + " from node node-a", Create: 1}

	cases := []struct {
		name    string
		wp      *kubeciv1.Workplan
		task    map[int]*corev1.Pod
		cleanup map[int]*corev1.Pod
		node    nodeState
		want    cleanupSummary
	}{{
		name: "the last pod's workspace cleaner removed the workspace: done, no cleanup pod",
		wp:   ended,
		task: lastRan(corev1.PodSucceeded, nil),
		node: ready,
		want: cleanupSummary{Status: metav1.ConditionTrue, Reason: kubeciv1.ReasonCleaned, Message: bySidecar, Done: true},
	}, {
		name: "the last pod failed a step, its cleaner still removed the workspace: done",
		wp:   ended,
		task: lastRan(corev1.PodFailed, map[string]int32{"step-5": 2}),
		node: ready,
		want: cleanupSummary{Status: metav1.ConditionTrue, Reason: kubeciv1.ReasonCleaned, Message: bySidecar, Done: true},
	}, {
		name: "the cleaner's word counts even on a node lost since",
		wp:   ended,
		task: lastRan(corev1.PodSucceeded, nil),
		node: observeNode("node-a", nil),
		want: cleanupSummary{Status: metav1.ConditionTrue, Reason: kubeciv1.ReasonCleaned, Message: bySidecar, Done: true},
	}, {
		name:    "a cleanup pod left from before the cleaner's word is deleted",
		wp:      ended,
		task:    lastRan(corev1.PodSucceeded, nil),
		cleanup: map[int]*corev1.Pod{1: cleanupPodOf(ended, 1)},
		node:    ready,
		want:    cleanupSummary{Status: metav1.ConditionTrue, Reason: kubeciv1.ReasonCleaned, Message: bySidecar, Delete: allCleanupPods(1), Done: true},
	}, {
		name: "the cleaner exited non-zero: a cleanup pod",
		wp:   ended,
		task: lastRan(corev1.PodSucceeded, map[string]int32{cleanerContainer: 1}),
		node: ready,
		want: firstCleanupPod,
	}, {
		name: "the cleaner was killed (137): a cleanup pod",
		wp:   ended,
		task: lastRan(corev1.PodFailed, map[string]int32{cleanerContainer: 137}),
		node: ready,
		want: firstCleanupPod,
	}, {
		name: "the pod's status lacks the cleaner: a cleanup pod",
		wp:   ended,
		task: lastRan(corev1.PodSucceeded, nil, cleanerContainer),
		node: ready,
		want: firstCleanupPod,
	}, {
		name: "the cleaner still runs, the pod being stopped: wait",
		wp:   ended,
		task: map[int]*corev1.Pod{0: stopped[0], 1: podOf(t, ended, 1, boundTo("node-a"), running(map[string]corev1.ContainerState{
			cleanerContainer: runningState(t0), "step-4": exited(137, t0, t0)}))},
		node: ready,
		want: cleanupSummary{Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonCleanupPending,
			Message: "waiting for pod my-workflow-run1-task-1 to stop before removing the workspace"},
	}, {
		name: "a run that failed before its last task: a cleanup pod",
		wp:   ended,
		task: map[int]*corev1.Pod{0: podOf(t, ended, 0, boundTo("node-a"), podEnded(corev1.PodFailed, map[string]corev1.ContainerState{
			"step-1": exited(1, t0, t0)}))},
		node: ready,
		want: firstCleanupPod,
	}, {
		name: "a cleaner in a pod that is not the last task's does not count",
		wp:   withStatus(ended, func(*kubeciv1.WorkplanStatus) {}),
		task: map[int]*corev1.Pod{0: func() *corev1.Pod {
			p := stopped[0].DeepCopy()
			p.Spec.InitContainers = append([]corev1.Container{cleanerFor(ended, testCleanupImage)}, p.Spec.InitContainers...)
			p.Status.InitContainerStatuses = append([]corev1.ContainerStatus{{Name: cleanerContainer,
				State: exited(0, t0, t0)}}, p.Status.InitContainerStatuses...)
			return p
		}()},
		node: ready,
		want: firstCleanupPod,
	}, {
		name: "nothing while the run goes on",
		wp:   withStatus(ended, func(st *kubeciv1.WorkplanStatus) { st.Phase = kubeciv1.WorkplanRunning }),
		node: ready,
		want: cleanupSummary{},
	}, {
		name: "waits for the task pods to stop",
		wp:   ended,
		task: map[int]*corev1.Pod{0: podOf(t, ended, 0, boundTo("node-a"), running(nil), deleting)},
		node: ready,
		want: cleanupSummary{Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonCleanupPending,
			Message: "waiting for pod my-workflow-run1-task-0 to stop before removing the workspace"},
	}, {
		name: "nothing to clean when no pod reached a node",
		wp:   withStatus(ended, func(st *kubeciv1.WorkplanStatus) { st.NodeName = "" }),
		want: cleanupSummary{Status: metav1.ConditionTrue, Reason: kubeciv1.ReasonNothingToClean,
			Message: "no pod of the run reached a node, so there is no workspace to remove", Done: true},
	}, {
		name: "starts the first cleanup pod",
		wp:   ended,
		task: stopped,
		node: ready,
		want: cleanupSummary{Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonCleanupPending,
			Message: "pod my-workflow-run1-cleanup removes " + dir + " from node node-a", Create: 1},
	}, {
		name:    "waits for the running cleanup pod",
		wp:      ended,
		task:    stopped,
		cleanup: map[int]*corev1.Pod{1: cleanupPodOf(ended, 1, boundTo("node-a"), running(nil))},
		node:    ready,
		want:    cleanupSummary{},
	}, {
		name:    "a succeeded cleanup pod cleans the workspace and is deleted",
		wp:      ended,
		task:    stopped,
		cleanup: map[int]*corev1.Pod{1: cleanupPodOf(ended, 1, boundTo("node-a"), cleanupExited(0, t0))},
		node:    ready,
		want: cleanupSummary{Status: metav1.ConditionTrue, Reason: kubeciv1.ReasonCleaned,
			Message: "removed " + dir + " from node node-a", Delete: allCleanupPods(1), Done: true},
	}, {
		name:    "a failed cleanup pod is retried after a backoff",
		wp:      ended,
		task:    stopped,
		cleanup: failedAt(1, now.Add(-4*time.Second)),
		node:    ready,
		want: cleanupSummary{Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonCleanupFailed,
			Message: failedMessage(1, "10s"), RequeueAfter: 6 * time.Second},
	}, {
		name:    "the retry starts once the backoff is over",
		wp:      ended,
		task:    stopped,
		cleanup: failedAt(1, now.Add(-10*time.Second)),
		node:    ready,
		want: cleanupSummary{Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonCleanupFailed,
			Message: failedMessage(1, "10s"), Create: 2},
	}, {
		name:    "the backoff doubles",
		wp:      ended,
		task:    stopped,
		cleanup: failedAt(3, now.Add(-30*time.Second)),
		node:    ready,
		want: cleanupSummary{Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonCleanupFailed,
			Message: failedMessage(3, "40s"), RequeueAfter: 10 * time.Second},
	}, {
		name:    "the cleanup is abandoned after the last attempt failed",
		wp:      ended,
		task:    stopped,
		cleanup: failedAt(5, t0),
		node:    ready,
		want: cleanupSummary{Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonCleanupAbandoned,
			Message: "gave up removing " + dir + " from node node-a: 5 cleanup pods failed, the last (my-workflow-run1-cleanup-5) " +
				"with exit code 1: rm: can't remove '/workspaces/x/f': Operation not permitted; remove it by hand",
			Delete: allCleanupPods(5), Done: true},
	}, {
		name: "a deleted node is not cleaned",
		wp:   ended,
		task: stopped,
		node: observeNode("node-a", nil),
		want: cleanupSummary{Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonCleanupAbandoned,
			Message: "gave up removing " + dir + " from node node-a: node node-a was deleted; remove it by hand", Done: true},
	}, {
		name: "a NotReady node is waited for",
		wp:   ended,
		task: stopped,
		node: observeNode("node-a", notReadyNode("node-a", now.Add(-time.Minute))),
		want: cleanupSummary{Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonCleanupPending,
			Message: "pod my-workflow-run1-cleanup removes " + dir + " from node node-a", Create: 1, RequeueAfter: o.NodeLostGracePeriod - time.Minute},
	}, {
		name:    "a node NotReady past its grace period is given up",
		wp:      ended,
		task:    stopped,
		cleanup: map[int]*corev1.Pod{1: cleanupPodOf(ended, 1)},
		node:    observeNode("node-a", notReadyNode("node-a", now.Add(-o.NodeLostGracePeriod))),
		want: cleanupSummary{Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonCleanupAbandoned,
			Message: "gave up removing " + dir + " from node node-a: node node-a has been NotReady since 2026-03-01T11:56:00Z (more than 5m0s); remove it by hand",
			Delete:  allCleanupPods(1), Done: true},
	}, {
		name:    "a cleanup pod that cannot be scheduled is given up after the grace period",
		wp:      ended,
		task:    stopped,
		cleanup: map[int]*corev1.Pod{1: cleanupPodOf(ended, 1, func(p *corev1.Pod) { p.CreationTimestamp = metav1.Time{Time: now.Add(-o.UnschedulableGracePeriod)} })},
		node:    ready,
		want: cleanupSummary{Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonCleanupAbandoned,
			Message: "gave up removing " + dir + " from node node-a: cleanup pod my-workflow-run1-cleanup was not scheduled within 10m0s: no scheduler has placed it; remove it by hand",
			Delete:  allCleanupPods(1), Done: true},
	}, {
		name: "a cleanup image that cannot be pulled is given up after the grace period",
		wp:   ended,
		task: stopped,
		cleanup: map[int]*corev1.Pod{1: cleanupPodOf(ended, 1, boundTo("node-a"), func(p *corev1.Pod) {
			p.Status.StartTime = &metav1.Time{Time: now.Add(-o.ImagePullGracePeriod)}
			setStates(p, map[string]corev1.ContainerState{cleanupContainer: waiting("ImagePullBackOff", `Back-off pulling image "busybox:1.36"`)})
		})},
		node: ready,
		want: cleanupSummary{Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonCleanupAbandoned,
			Message: "gave up removing " + dir + ` from node node-a: cleanup pod my-workflow-run1-cleanup could not start: ImagePullBackOff: Back-off pulling image "busybox:1.36"; remove it by hand`,
			Delete:  allCleanupPods(1), Done: true},
	}, {
		name: "an ended cleanup is done and leaves no cleanup pod",
		wp: withStatus(ended, func(st *kubeciv1.WorkplanStatus) {
			setCondition(st, 1, kubeciv1.ConditionWorkspaceCleaned, metav1.ConditionTrue, kubeciv1.ReasonCleaned, "removed", t0)
		}),
		task:    stopped,
		cleanup: map[int]*corev1.Pod{1: cleanupPodOf(ended, 1, boundTo("node-a"), cleanupExited(0, t0))},
		node:    observeNode("node-a", nil),
		want:    cleanupSummary{Delete: allCleanupPods(1), Done: true},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cleanup == nil {
				tc.cleanup = map[int]*corev1.Pod{}
			}
			d := decideCleanup(cleanupInput{Now: now, Workplan: tc.wp, TaskPods: tc.task, CleanupPods: tc.cleanup, Node: tc.node, Options: o})
			if diff := cmp.Diff(tc.want, summarizeCleanup(d)); diff != "" {
				t.Errorf("decision (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCleanupBackoff(t *testing.T) {
	o := Options{CleanupBackoff: 10 * time.Second, MaxCleanupBackoff: time.Minute}.withDefaults()
	var got []time.Duration
	for attempt := 1; attempt <= 5; attempt++ {
		got = append(got, o.cleanupBackoff(attempt))
	}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoffs (-want +got):\n%s", diff)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"defaults", Options{}, ""},
		{"no cleanup image", Options{CleanupImage: "-"}, "no cleanup image"},
		{"relative root", Options{WorkspaceRoot: "kubeci"}, `workspace root "kubeci" must be a clean absolute path`},
		{"unclean root", Options{WorkspaceRoot: "/kubeci/../etc"}, "must be a clean absolute path"},
		{"root of the node", Options{WorkspaceRoot: "/"}, `workspace root must not be "/"`},
		{"no attempts", Options{CleanupAttempts: -1}, "cleanup attempts must be at least 1"},
	} {
		switch tc.o.CleanupImage {
		case "":
			tc.o.CleanupImage = testCleanupImage
		case "-":
			tc.o.CleanupImage = ""
		}
		err := tc.o.withDefaults().validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error = %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}
