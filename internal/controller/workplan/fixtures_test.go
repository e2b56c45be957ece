package workplan

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/config/samples"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"
)

// Fixtures shared by the unit tests of the pure decisions: the design doc's
// Workplan and pods in the states a kubelet would write.

// t0 is when the fixtures' Workplan was created.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testOptions are the defaults, which the unit tests rely on.
// testCleanupImage is the cleanup image the tests run with.
const testCleanupImage = "kubeci.local/kubeci@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

var testOptions = Options{CleanupImage: testCleanupImage}.withDefaults()

// loadSampleWorkflow reads the design doc's example Workflow (config/samples).
func loadSampleWorkflow(t testing.TB) *kubeciv1.Workflow {
	t.Helper()
	return samples.Workflow()
}

// docWorkplan is the design doc's Workplan as the Workflow controller makes
// it: two tasks, step-1 then step-2 and step-3 in task 0, step-4 then step-5
// in task 1.
func docWorkplan(t testing.TB) *kubeciv1.Workplan {
	t.Helper()
	wf := loadSampleWorkflow(t)
	wf.UID = "wf-uid"
	wp, err := plan.NewWorkplan(wf, kubeciv1.TriggerEvent{
		Event: kubeciv1.EventUpdated, APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "my-config",
	}, "my-workflow-run1")
	if err != nil {
		t.Fatal(err)
	}
	wp.UID = "wp-uid"
	wp.Generation = 1
	wp.CreationTimestamp = metav1.Time{Time: t0}
	return wp
}

// podOf builds task i's pod of wp as created, then applies the changes.
func podOf(t testing.TB, wp *kubeciv1.Workplan, i int, changes ...func(*corev1.Pod)) *corev1.Pod {
	t.Helper()
	pod, err := taskPod(wp, i, testOptions.WorkspaceRoot, wp.Status.NodeName, testOptions.CleanupImage)
	if err != nil {
		t.Fatal(err)
	}
	pod.UID = "pod-uid"
	pod.CreationTimestamp = metav1.Time{Time: t0}
	pod.Status.Phase = corev1.PodPending
	for _, c := range changes {
		c(pod)
	}
	return pod
}

// boundTo plays the scheduler.
func boundTo(node string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.NodeName = node
		p.Status.StartTime = &metav1.Time{Time: t0.Add(time.Second)}
	}
}

// running: the pod runs with the given container states (by step name);
// containers not named are waiting to start.
func running(states map[string]corev1.ContainerState) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		setStates(p, states)
	}
}

// ended: the pod ended with phase and the given container states.
func ended(phase corev1.PodPhase, states map[string]corev1.ContainerState) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Phase = phase
		setStates(p, states)
	}
}

func setStates(p *corev1.Pod, states map[string]corev1.ContainerState) {
	status := func(c corev1.Container) corev1.ContainerStatus {
		st, ok := states[c.Name]
		if !ok {
			st = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}
		}
		return corev1.ContainerStatus{Name: c.Name, Image: c.Image, State: st}
	}
	p.Status.InitContainerStatuses, p.Status.ContainerStatuses = nil, nil
	for _, c := range p.Spec.InitContainers {
		p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, status(c))
	}
	for _, c := range p.Spec.Containers {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, status(c))
	}
}

func runningState(at time.Time) corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Time{Time: at}}}
}

func exited(code int32, start, end time.Time) corev1.ContainerState {
	reason := "Completed"
	if code != 0 {
		reason = "Error"
	}
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, Reason: reason, StartedAt: metav1.Time{Time: start}, FinishedAt: metav1.Time{Time: end},
	}}
}

func waiting(reason, message string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}
}

// allExited: every container of the pod exited 0.
func allExited(p *corev1.Pod) map[string]corev1.ContainerState {
	out := map[string]corev1.ContainerState{}
	for _, c := range append(p.Spec.InitContainers, p.Spec.Containers...) {
		out[c.Name] = exited(0, t0.Add(2*time.Second), t0.Add(3*time.Second))
	}
	return out
}

func succeeded(p *corev1.Pod) { ended(corev1.PodSucceeded, allExited(p))(p) }

func deleting(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: t0.Add(time.Minute)} }

// readyNode is a node that has been Ready since t0.
func readyNode(name string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.Time{Time: t0.Add(-time.Hour)}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Time{Time: t0.Add(-time.Hour)},
		}}},
	}
}

// notReadyNode has been NotReady since since.
func notReadyNode(name string, since time.Time) *corev1.Node {
	n := readyNode(name)
	n.Status.Conditions[0].Status = corev1.ConditionUnknown
	n.Status.Conditions[0].LastTransitionTime = metav1.Time{Time: since}
	return n
}

// withStatus returns a copy of wp with status changes applied.
func withStatus(wp *kubeciv1.Workplan, change func(*kubeciv1.WorkplanStatus)) *kubeciv1.Workplan {
	wp = wp.DeepCopy()
	change(&wp.Status)
	return wp
}

func taskPodName(i int) string { return names.TaskPod("my-workflow-run1", i) }
