package workplan

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// runSummary is what the table tests check of a run decision.
type runSummary struct {
	Phase        kubeciv1.WorkplanPhase
	Succeeded    string // the Succeeded condition's reason
	Reason       string // status.reason
	TaskIndex    int32
	NodeName     string
	PodName      string
	Create       int
	Stop         []string
	RequeueAfter time.Duration
}

func summarize(d runDecision) runSummary {
	s := runSummary{
		Phase: d.Status.Phase, Reason: d.Status.Reason, TaskIndex: d.Status.TaskIndex,
		NodeName: d.Status.NodeName, PodName: d.Status.PodName, Create: d.Create, RequeueAfter: d.RequeueAfter,
	}
	if c := meta.FindStatusCondition(d.Status.Conditions, kubeciv1.ConditionSucceeded); c != nil {
		s.Succeeded = c.Reason
	}
	for _, p := range d.Stop {
		s.Stop = append(s.Stop, p.Name)
	}
	return s
}

// Every transition of a run's phase, from the Workplan and its pods alone.
func TestDecideRun(t *testing.T) {
	base := docWorkplan(t)
	now := t0.Add(10 * time.Second)
	o := testOptions
	onNode := withStatus(base, func(st *kubeciv1.WorkplanStatus) {
		st.Phase, st.NodeName, st.PodName = kubeciv1.WorkplanRunning, "node-a", taskPodName(0)
	})
	atTask1 := withStatus(onNode, func(st *kubeciv1.WorkplanStatus) { st.TaskIndex, st.PodName = 1, taskPodName(1) })
	pod0 := func(changes ...func(*corev1.Pod)) map[int]*corev1.Pod {
		return map[int]*corev1.Pod{0: podOf(t, base, 0, changes...)}
	}
	pods01 := func(changes ...func(*corev1.Pod)) map[int]*corev1.Pod {
		return map[int]*corev1.Pod{0: podOf(t, base, 0, boundTo("node-a"), succeeded), 1: podOf(t, onNode, 1, changes...)}
	}
	ready := observeNode("node-a", readyNode("node-a"))
	untilUnschedulable := o.UnschedulableGracePeriod - 10*time.Second

	cases := []struct {
		name string
		wp   *kubeciv1.Workplan
		pods map[int]*corev1.Pod
		node nodeState
		now  time.Time
		want runSummary
	}{{
		name: "a new run creates task 0's pod",
		wp:   base,
		want: runSummary{Phase: kubeciv1.WorkplanPending, Succeeded: kubeciv1.ReasonRunning,
			Reason: "task 0: creating pod my-workflow-run1-task-0", Create: 0},
	}, {
		name: "task 0's pod waits for the scheduler",
		wp:   withStatus(base, func(st *kubeciv1.WorkplanStatus) { st.PodName = taskPodName(0) }),
		pods: pod0(),
		want: runSummary{Phase: kubeciv1.WorkplanPending, Succeeded: kubeciv1.ReasonRunning, PodName: taskPodName(0),
			Reason: "task 0: pod my-workflow-run1-task-0 waits for a node", Create: noTask, RequeueAfter: untilUnschedulable},
	}, {
		name: "a pod never scheduled fails the run after the grace period",
		wp:   base,
		pods: pod0(),
		now:  t0.Add(o.UnschedulableGracePeriod),
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonUnschedulable, PodName: taskPodName(0),
			Reason: "pod my-workflow-run1-task-0 of task 0 was not scheduled within 10m0s: no scheduler has placed it",
			Create: noTask},
	}, {
		name: "the first pod bound records the run's node",
		wp:   base,
		pods: pod0(boundTo("node-a")),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanPending, Succeeded: kubeciv1.ReasonRunning, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "task 0: pod my-workflow-run1-task-0 is starting on node node-a", Create: noTask},
	}, {
		name: "a running pod makes the run Running",
		wp:   base,
		pods: pod0(boundTo("node-a"), running(map[string]corev1.ContainerState{"step-1": runningState(t0)})),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanRunning, Succeeded: kubeciv1.ReasonRunning, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "task 0: pod my-workflow-run1-task-0 runs on node node-a", Create: noTask},
	}, {
		name: "a failed init container fails the run, naming the step and exit code, without a next pod",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), ended(corev1.PodFailed, map[string]corev1.ContainerState{"step-1": exited(3, t0, t0)})),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonStepFailed, NodeName: "node-a", PodName: taskPodName(0),
			Reason: `step "step-1" (task 0) failed with exit code 3`, Create: noTask},
	}, {
		name: "a failed parallel step lets its siblings finish",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), running(map[string]corev1.ContainerState{
			"step-1": exited(0, t0, t0), "step-2": runningState(t0), "step-3": exited(2, t0, t0),
		})),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanRunning, Succeeded: kubeciv1.ReasonRunning, NodeName: "node-a", PodName: taskPodName(0),
			Reason: `step "step-3" (task 0) failed with exit code 2; the run fails once the task's other steps have finished`, Create: noTask},
	}, {
		name: "then fails the run when the pod has stopped",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), ended(corev1.PodFailed, map[string]corev1.ContainerState{
			"step-1": exited(0, t0, t0), "step-2": exited(0, t0, t0), "step-3": exited(2, t0, t0),
		})),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonStepFailed, NodeName: "node-a", PodName: taskPodName(0),
			Reason: `step "step-3" (task 0) failed with exit code 2`, Create: noTask},
	}, {
		name: "an OOM-killed step says so",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), ended(corev1.PodFailed, map[string]corev1.ContainerState{
			"step-1": {Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}},
		})),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonStepFailed, NodeName: "node-a", PodName: taskPodName(0),
			Reason: `step "step-1" (task 0) failed with exit code 137 (OOMKilled)`, Create: noTask},
	}, {
		name: "task 0 succeeding creates task 1's pod",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), succeeded),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanRunning, Succeeded: kubeciv1.ReasonRunning, NodeName: "node-a", PodName: taskPodName(0), TaskIndex: 1,
			Reason: "task 1: creating pod my-workflow-run1-task-1", Create: 1},
	}, {
		name: "task 1 runs",
		wp:   atTask1,
		pods: pods01(boundTo("node-a"), running(map[string]corev1.ContainerState{"step-4": runningState(t0)})),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanRunning, Succeeded: kubeciv1.ReasonRunning, NodeName: "node-a", PodName: taskPodName(1), TaskIndex: 1,
			Reason: "task 1: pod my-workflow-run1-task-1 runs on node node-a", Create: noTask},
	}, {
		name: "a status behind the pods catches up (restart after task 0 ended)",
		wp:   onNode,
		pods: pods01(boundTo("node-a"), running(map[string]corev1.ContainerState{"step-4": runningState(t0)})),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanRunning, Succeeded: kubeciv1.ReasonRunning, NodeName: "node-a", PodName: taskPodName(1), TaskIndex: 1,
			Reason: "task 1: pod my-workflow-run1-task-1 runs on node node-a", Create: noTask},
	}, {
		name: "the last task succeeding completes the run",
		wp:   atTask1,
		pods: pods01(boundTo("node-a"), succeeded),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanCompleted, Succeeded: kubeciv1.ReasonCompleted, NodeName: "node-a", PodName: taskPodName(1), TaskIndex: 1,
			Reason: "all 2 tasks succeeded", Create: noTask},
	}, {
		name: "a created pod that is gone was deleted from outside",
		wp:   onNode,
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonPodLost, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "pod my-workflow-run1-task-0 of task 0 was deleted before it finished", Create: noTask},
	}, {
		name: "a pod being deleted from outside fails the run",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), running(nil), deleting),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonPodLost, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "pod my-workflow-run1-task-0 of task 0 was deleted before it finished", Create: noTask},
	}, {
		name: "an evicted pod fails the run",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), func(p *corev1.Pod) {
			p.Status.Phase, p.Status.Reason, p.Status.Message = corev1.PodFailed, "Evicted", "The node was low on resource: ephemeral-storage."
		}),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonPodLost, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "pod my-workflow-run1-task-0 of task 0 was evicted from node node-a: The node was low on resource: ephemeral-storage.", Create: noTask},
	}, {
		name: "a pod evicted through the Eviction API fails the run",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), running(nil), deleting, func(p *corev1.Pod) {
			p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
				Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI", Message: "Eviction API: evicting",
			})
		}),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonPodLost, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "pod my-workflow-run1-task-0 of task 0 was evicted from node node-a: Eviction API: evicting", Create: noTask},
	}, {
		name: "a pod the kubelet rejected fails the run",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), func(p *corev1.Pod) {
			p.Status.Phase, p.Status.Reason, p.Status.Message = corev1.PodFailed, "OutOfcpu", "Pod was rejected: Node didn't have enough resource: cpu"
		}),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonPodLost, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "pod my-workflow-run1-task-0 of task 0 failed on node node-a: OutOfcpu: Pod was rejected: Node didn't have enough resource: cpu", Create: noTask},
	}, {
		name: "an image that cannot be pulled yet is waited for",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), func(p *corev1.Pod) {
			setStates(p, map[string]corev1.ContainerState{"step-1": waiting("ImagePullBackOff", `Back-off pulling image "alpine"`)})
		}),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanRunning, Succeeded: kubeciv1.ReasonRunning, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "task 0: pod my-workflow-run1-task-0 is starting on node node-a", Create: noTask, RequeueAfter: o.ImagePullGracePeriod - 9*time.Second},
	}, {
		name: "an image that cannot be pulled within the grace period fails the step",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), func(p *corev1.Pod) {
			setStates(p, map[string]corev1.ContainerState{"step-1": waiting("ImagePullBackOff", `Back-off pulling image "alpine"`)})
		}),
		node: ready,
		now:  t0.Add(time.Second + o.ImagePullGracePeriod),
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonStepFailed, NodeName: "node-a", PodName: taskPodName(0),
			Reason: `step "step-1" (task 0) could not start: ImagePullBackOff: Back-off pulling image "alpine" (for more than 5m0s)`,
			Create: noTask},
	}, {
		name: "a workspace cleaner that cannot be pulled within the grace period fails the run, saying so",
		wp:   atTask1,
		pods: pods01(boundTo("node-a"), func(p *corev1.Pod) {
			setStates(p, map[string]corev1.ContainerState{cleanerContainer: waiting("ErrImagePull", `pulling image "kubeci": not found`)})
		}),
		node: ready,
		now:  t0.Add(time.Second + o.ImagePullGracePeriod),
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonStepFailed, TaskIndex: 1, NodeName: "node-a", PodName: taskPodName(1),
			Reason: `the workspace cleaner (container kubeci-cleanup of task 1, Kube CI's image) could not start: ErrImagePull: pulling image "kubeci": not found (for more than 5m0s)`,
			Create: noTask},
	}, {
		name: "the last pod succeeds whatever its cleaner's exit code: the cleaner is no step",
		wp:   atTask1,
		pods: pods01(boundTo("node-a"), func(p *corev1.Pod) {
			states := allExited(p)
			states[cleanerContainer] = exited(1, t0, t0)
			ended(corev1.PodSucceeded, states)(p)
		}),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanCompleted, Succeeded: kubeciv1.ReasonCompleted, TaskIndex: 1, NodeName: "node-a", PodName: taskPodName(1),
			Reason: "all 2 tasks succeeded", Create: noTask},
	}, {
		name: "an invalid image name fails the step at once",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), func(p *corev1.Pod) {
			setStates(p, map[string]corev1.ContainerState{"step-1": waiting("InvalidImageName", "bad")})
		}),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonStepFailed, NodeName: "node-a", PodName: taskPodName(0),
			Reason: `step "step-1" (task 0) could not start: InvalidImageName: bad`, Create: noTask},
	}, {
		name: "a NotReady node is waited for",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), running(nil)),
		node: observeNode("node-a", notReadyNode("node-a", t0)),
		want: runSummary{Phase: kubeciv1.WorkplanRunning, Succeeded: kubeciv1.ReasonRunning, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "task 0: pod my-workflow-run1-task-0 runs on node node-a", Create: noTask, RequeueAfter: o.NodeLostGracePeriod - 10*time.Second},
	}, {
		name: "a node NotReady past the grace period loses the pod",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), running(nil)),
		node: observeNode("node-a", notReadyNode("node-a", t0)),
		now:  t0.Add(o.NodeLostGracePeriod),
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonPodLost, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "pod my-workflow-run1-task-0 of task 0 is lost: node node-a has been NotReady since 2026-03-01T12:00:00Z (more than 5m0s)",
			Create: noTask},
	}, {
		name: "a deleted node loses the pod at once",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), running(nil)),
		node: observeNode("node-a", nil),
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonPodLost, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "pod my-workflow-run1-task-0 of task 0 is lost: node node-a was deleted", Create: noTask},
	}, {
		name: "the next task is not started on a deleted node",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), succeeded),
		node: observeNode("node-a", nil),
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonPodLost, NodeName: "node-a", PodName: taskPodName(0), TaskIndex: 1,
			Reason: "task 1 cannot start: node node-a was deleted, and the run's workspace is on it", Create: noTask},
	}, {
		name: "the next task waits for a NotReady node",
		wp:   onNode,
		pods: pod0(boundTo("node-a"), succeeded),
		node: observeNode("node-a", notReadyNode("node-a", t0)),
		want: runSummary{Phase: kubeciv1.WorkplanRunning, Succeeded: kubeciv1.ReasonRunning, NodeName: "node-a", PodName: taskPodName(0), TaskIndex: 1,
			Reason: "task 1 waits for node node-a, which holds the run's workspace, to become Ready", Create: noTask, RequeueAfter: o.NodeLostGracePeriod - 10*time.Second},
	}, {
		name: "cancelling ends the run (its pod is stopped once that is saved)",
		wp:   func() *kubeciv1.Workplan { wp := onNode.DeepCopy(); wp.Spec.Cancelled = true; return wp }(),
		pods: pod0(boundTo("node-a"), running(nil)),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonCancelled, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "cancelled: spec.cancelled was set", Create: noTask},
	}, {
		name: "deleting the Workplan cancels the run",
		wp: func() *kubeciv1.Workplan {
			wp := onNode.DeepCopy()
			wp.DeletionTimestamp = &metav1.Time{Time: now}
			return wp
		}(),
		pods: pod0(boundTo("node-a"), running(nil)),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonCancelled, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "cancelled: the Workplan was deleted before the run ended", Create: noTask},
	}, {
		name: "a deadline to come is waited for",
		wp: func() *kubeciv1.Workplan {
			wp := onNode.DeepCopy()
			wp.Spec.ActiveDeadlineSeconds = ptr.To[int64](60)
			return wp
		}(),
		pods: pod0(boundTo("node-a"), running(nil)),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanRunning, Succeeded: kubeciv1.ReasonRunning, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "task 0: pod my-workflow-run1-task-0 runs on node node-a", Create: noTask, RequeueAfter: 50 * time.Second},
	}, {
		name: "a run past its deadline is stopped",
		wp: func() *kubeciv1.Workplan {
			wp := onNode.DeepCopy()
			wp.Spec.ActiveDeadlineSeconds = ptr.To[int64](60)
			return wp
		}(),
		pods: pod0(boundTo("node-a"), running(nil)),
		node: ready,
		now:  t0.Add(time.Minute),
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonDeadlineExceeded, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "the run exceeded its activeDeadlineSeconds (1m0s since the Workplan was created at 2026-03-01T12:00:00Z)",
			Create: noTask},
	}, {
		name: "an ended run keeps its outcome and stops pods still running",
		wp: withStatus(onNode, func(st *kubeciv1.WorkplanStatus) {
			st.Phase, st.Reason = kubeciv1.WorkplanFailed, "cancelled: spec.cancelled was set"
		}),
		pods: pod0(boundTo("node-a"), running(nil)),
		node: ready,
		want: runSummary{Phase: kubeciv1.WorkplanFailed, NodeName: "node-a", PodName: taskPodName(0),
			Reason: "cancelled: spec.cancelled was set", Create: noTask, Stop: []string{taskPodName(0)}},
	}, {
		name: "a Workplan without tasks fails",
		wp:   func() *kubeciv1.Workplan { wp := base.DeepCopy(); wp.Spec.Tasks = nil; return wp }(),
		want: runSummary{Phase: kubeciv1.WorkplanFailed, Succeeded: kubeciv1.ReasonPodRejected,
			Reason: "the Workplan has no tasks: spec.tasks is empty", Create: noTask},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.now.IsZero() {
				tc.now = now
			}
			if tc.pods == nil {
				tc.pods = map[int]*corev1.Pod{}
			}
			before := tc.wp.DeepCopy()
			d := decideRun(runInput{Now: tc.now, Workplan: tc.wp, Pods: tc.pods, Node: tc.node, Options: o})
			if diff := cmp.Diff(tc.want, summarize(d)); diff != "" {
				t.Errorf("decision (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, tc.wp); diff != "" {
				t.Errorf("decideRun changed its input:\n%s", diff)
			}
			if d.Status.Phase.Finished() && !before.Status.Phase.Finished() {
				if d.Status.CompletionTime == nil || !d.Status.CompletionTime.Time.Equal(tc.now) {
					t.Errorf("completionTime = %v, want %v", d.Status.CompletionTime, tc.now)
				}
				if c := meta.FindStatusCondition(d.Status.Conditions, kubeciv1.ConditionWorkspaceCleaned); c == nil || c.Reason != kubeciv1.ReasonCleanupPending {
					t.Errorf("an ended run's WorkspaceCleaned condition = %v, want CleanupPending", c)
				}
			}
		})
	}
}

// Steps report their own state: exit codes, times, and why they did not run.
func TestDecideRunSteps(t *testing.T) {
	wp := withStatus(docWorkplan(t), func(st *kubeciv1.WorkplanStatus) { st.NodeName, st.PodName = "node-a", taskPodName(0) })
	pod := podOf(t, wp, 0, boundTo("node-a"), running(map[string]corev1.ContainerState{
		"step-1": exited(0, t0, t0.Add(time.Second)),
		"step-2": {Terminated: &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error", Message: "make: *** [all] Error 3",
			StartedAt: metav1.Time{Time: t0.Add(time.Second)}, FinishedAt: metav1.Time{Time: t0.Add(2 * time.Second)}}},
		"step-3": runningState(t0.Add(time.Second)),
	}))
	d := decideRun(runInput{Now: t0.Add(3 * time.Second), Workplan: wp, Pods: map[int]*corev1.Pod{0: pod},
		Node: observeNode("node-a", readyNode("node-a")), Options: testOptions})
	at := func(s time.Duration) *metav1.Time { return &metav1.Time{Time: t0.Add(s * time.Second)} }
	want := []kubeciv1.StepStatus{
		{Name: "step-1", Task: 0, Phase: kubeciv1.StepSucceeded, ExitCode: ptr.To[int32](0), StartTime: at(0), FinishTime: at(1)},
		{Name: "step-2", Task: 0, Phase: kubeciv1.StepFailed, ExitCode: ptr.To[int32](3), Message: "make: *** [all] Error 3", StartTime: at(1), FinishTime: at(2)},
		{Name: "step-3", Task: 0, Phase: kubeciv1.StepRunning, StartTime: at(1)},
		{Name: "step-4", Task: 1, Phase: kubeciv1.StepWaiting},
		{Name: "step-5", Task: 1, Phase: kubeciv1.StepWaiting},
	}
	if diff := cmp.Diff(want, d.Status.Steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
}

// A finished task's pod may be gone: its steps keep what was recorded.
func TestStepStatusesKeepRecordedSteps(t *testing.T) {
	wp := withStatus(docWorkplan(t), func(st *kubeciv1.WorkplanStatus) {
		st.Steps = []kubeciv1.StepStatus{{Name: "step-1", Task: 0, Phase: kubeciv1.StepSucceeded, ExitCode: ptr.To[int32](0)}}
	})
	steps := stepStatuses(wp, map[int]*corev1.Pod{})
	if len(steps) != 5 || steps[0].Phase != kubeciv1.StepSucceeded || steps[1].Phase != kubeciv1.StepWaiting {
		t.Errorf("steps = %+v, want step-1 Succeeded as recorded and the others Waiting", steps)
	}
}

// BenchmarkDecideRun measures one decision for a run of the design doc's
// example whose second task runs (what most reconciles compute).
func BenchmarkDecideRun(b *testing.B) {
	wp := withStatus(docWorkplan(b), func(st *kubeciv1.WorkplanStatus) {
		st.Phase, st.NodeName, st.PodName, st.TaskIndex = kubeciv1.WorkplanRunning, "node-a", taskPodName(1), 1
	})
	pods := map[int]*corev1.Pod{
		0: podOf(b, wp, 0, boundTo("node-a"), succeeded),
		1: podOf(b, wp, 1, boundTo("node-a"), running(map[string]corev1.ContainerState{"step-4": runningState(t0)})),
	}
	in := runInput{Now: t0.Add(time.Minute), Workplan: wp, Pods: pods, Node: observeNode("node-a", readyNode("node-a")), Options: testOptions}
	b.ReportAllocs()
	for b.Loop() {
		decideRun(in)
	}
}

// A pod stays Pending while its init containers run: the run is Running (and
// has a start time) as soon as a serial step has started.
func TestRunStartsWithItsFirstSerialStep(t *testing.T) {
	wp := withStatus(docWorkplan(t), func(st *kubeciv1.WorkplanStatus) { st.NodeName, st.PodName = "node-a", taskPodName(0) })
	pod := podOf(t, wp, 0, boundTo("node-a"), func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.StartTime = &metav1.Time{Time: t0}
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "step-1", State: runningState(t0)}}
	})
	d := decideRun(runInput{Now: t0.Add(time.Second), Workplan: wp, Pods: map[int]*corev1.Pod{0: pod},
		Node: observeNode("node-a", readyNode("node-a")), Options: testOptions})
	if d.Status.Phase != kubeciv1.WorkplanRunning || d.Status.StartTime == nil || !d.Status.StartTime.Time.Equal(t0) {
		t.Errorf("phase %s, start %v: want Running since %v", d.Status.Phase, d.Status.StartTime, t0)
	}
}

// The workspace cleaner is no step: it starts no run, has no step status.
func TestCleanerIsNoStep(t *testing.T) {
	wp := docWorkplan(t)
	pod := podOf(t, wp, 1, boundTo("node-a"), func(p *corev1.Pod) {
		setStates(p, map[string]corev1.ContainerState{cleanerContainer: runningState(t0)})
	})
	pods := map[int]*corev1.Pod{1: pod}
	if started(pods) {
		t.Error("a run whose only running container is the workspace cleaner counts as started")
	}
	for _, st := range stepStatuses(wp, pods) {
		if st.Name == cleanerContainer {
			t.Errorf("the workspace cleaner has a step status: %+v", st)
		}
		if st.Phase != kubeciv1.StepWaiting {
			t.Errorf("step %s is %s while only the cleaner runs", st.Name, st.Phase)
		}
	}
	setStates(pod, map[string]corev1.ContainerState{cleanerContainer: runningState(t0), "step-4": runningState(t0)})
	if !started(pods) {
		t.Error("a run whose step runs does not count as started")
	}
}
