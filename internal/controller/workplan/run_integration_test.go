package workplan_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/controller/workplan"
	"github.com/kubeci/kubeci/internal/names"
)

// The design doc's example: task 0 (step-1, then step-2 and step-3) then
// task 1 (step-4, then step-5), each a pod with the workspace and the env,
// both on the node the scheduler chose for the first; then the cleanup pod on
// that node, and nothing left behind.
func TestDocExampleRunsTaskByTaskOnOneNode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	wf := h.createWorkflow()
	run := h.createRun(wf, "my-workflow-run1").Name
	pod0Name, pod1Name := names.TaskPod(run, 0), names.TaskPod(run, 1)

	pod0 := h.waitPod(pod0Name)
	wp := h.waitRun(run, "finalizer", func(wp *kubeciv1.Workplan) bool { return true })
	if !slices.Contains(wp.Finalizers, kubeciv1.FinalizerWorkspaceCleanup) {
		t.Errorf("the Workplan has no %s finalizer once its first pod exists: %v", kubeciv1.FinalizerWorkspaceCleanup, wp.Finalizers)
	}
	checkTaskPod(t, pod0, h.ns, run, []string{"step-1"}, []string{"step-2", "step-3"})
	if got := pinnedNode(pod0); got != "" {
		t.Errorf("the first pod is pinned to %q; the scheduler should place it", got)
	}
	if pod0.Spec.NodeName != "" {
		t.Errorf("the first pod has spec.nodeName %q; the scheduler should place it", pod0.Spec.NodeName)
	}
	wp = h.waitRun(run, "Pending", func(wp *kubeciv1.Workplan) bool { return wp.Status.Phase == kubeciv1.WorkplanPending })

	h.runPod(pod0Name)
	wp = h.waitPhase(run, kubeciv1.WorkplanRunning)
	if wp.Status.NodeName != h.node || wp.Status.PodName != pod0Name || wp.Status.StartTime == nil {
		t.Errorf("running: nodeName %q, podName %q, startTime %v; want %q, %q and a time", wp.Status.NodeName, wp.Status.PodName, wp.Status.StartTime, h.node, pod0Name)
	}
	if err := h.c.Get(h.ctx(), keyOf(h.ns, pod1Name), &corev1.Pod{}); err == nil {
		t.Fatal("task 1's pod exists while task 0 runs")
	}

	h.endPod(pod0Name, nil)
	pod1 := h.waitPod(pod1Name)
	checkTaskPod(t, pod1, h.ns, run, []string{cleanerName, "step-4"}, []string{"step-5"})
	if got := pinnedNode(pod1); got != h.node {
		t.Errorf("task 1's pod is pinned to %q, want the node task 0 ran on, %q", got, h.node)
	}
	if pod1.Spec.NodeName != "" {
		t.Error("task 1's pod has spec.nodeName set: it must go through the scheduler")
	}
	h.waitRun(run, "task 1", func(wp *kubeciv1.Workplan) bool { return wp.Status.TaskIndex == 1 && wp.Status.PodName == pod1Name })
	h.runPod(pod1Name)
	h.endPod(pod1Name, nil)

	wp = h.waitPhase(run, kubeciv1.WorkplanCompleted)
	if c := findCondition(wp, kubeciv1.ConditionSucceeded); c == nil || c.Status != metav1.ConditionTrue || c.Reason != kubeciv1.ReasonCompleted {
		t.Errorf("Succeeded condition = %+v, want True/Completed", c)
	}
	if wp.Status.CompletionTime == nil {
		t.Error("no completionTime")
	}
	var steps []string
	for _, s := range wp.Status.Steps {
		steps = append(steps, s.Name+"/"+string(s.Phase))
		if s.ExitCode == nil || *s.ExitCode != 0 {
			t.Errorf("step %s: exit code %v, want 0", s.Name, s.ExitCode)
		}
	}
	want := []string{"step-1/Succeeded", "step-2/Succeeded", "step-3/Succeeded", "step-4/Succeeded", "step-5/Succeeded"}
	if diff := cmp.Diff(want, steps); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}

	// The last pod's workspace cleaner exited 0: the workspace is gone, as
	// the same status write that ended the run says, and no cleanup pod.
	c := findCondition(wp, kubeciv1.ConditionWorkspaceCleaned)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != kubeciv1.ReasonCleaned ||
		!strings.Contains(c.Message, "/kubeci/"+h.ns+"/my-workflow/"+run) || !strings.Contains(c.Message, "workspace cleaner of pod "+pod1Name) {
		t.Errorf("WorkspaceCleaned = %+v once Completed, want True/Cleaned by the cleaner of %s, naming the workspace", c, pod1Name)
	}
	h.waitRun(run, "finalizer released", func(wp *kubeciv1.Workplan) bool { return len(wp.Finalizers) == 0 })
	if slices.Contains(h.pods(), names.CleanupPod(run)) {
		t.Error("a cleanup pod was created although the workspace cleaner removed the workspace")
	}
	h.waitEvent(run, workplan.EventCompleted, "all 2 tasks succeeded; removed /kubeci/"+h.ns+"/my-workflow/"+run)
	for _, e := range h.events(run) {
		if !strings.HasPrefix(e, workplan.EventCompleted+":") {
			t.Errorf("event %q: a run that succeeds gets one Event, Completed", e)
		}
	}
	checkMetrics(t)
}

// checkTaskPod checks a task pod's containers, workspace, env and owner.
func checkTaskPod(t *testing.T, pod *corev1.Pod, ns, run string, init, containers []string) {
	t.Helper()
	if diff := cmp.Diff(init, containerNames(pod.Spec.InitContainers)); diff != "" {
		t.Errorf("pod %s init containers (-want +got):\n%s", pod.Name, diff)
	}
	if diff := cmp.Diff(containers, containerNames(pod.Spec.Containers)); diff != "" {
		t.Errorf("pod %s containers (-want +got):\n%s", pod.Name, diff)
	}
	if pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("pod %s restartPolicy %q", pod.Name, pod.Spec.RestartPolicy)
	}
	cleaner := len(pod.Spec.InitContainers) > 0 && pod.Spec.InitContainers[0].Name == cleanerName
	want := 1
	if cleaner {
		want = 2
	}
	if len(pod.Spec.Volumes) != want || pod.Spec.Volumes[0].HostPath == nil ||
		pod.Spec.Volumes[0].HostPath.Path != "/kubeci/"+ns+"/my-workflow/"+run ||
		*pod.Spec.Volumes[0].HostPath.Type != corev1.HostPathDirectoryOrCreate {
		t.Errorf("pod %s volumes = %+v, want the hostPath workspace /kubeci/%s/my-workflow/%s", pod.Name, pod.Spec.Volumes, ns, run)
	}
	if cleaner {
		// The workspace cleaner: a native sidecar mounting the workflow's
		// folder, the workspace's parent.
		c, v := pod.Spec.InitContainers[0], pod.Spec.Volumes[1]
		if c.RestartPolicy == nil || *c.RestartPolicy != corev1.ContainerRestartPolicyAlways || len(c.VolumeMounts) != 1 ||
			c.VolumeMounts[0].Name != v.Name || v.HostPath == nil || v.HostPath.Path != "/kubeci/"+ns+"/my-workflow" {
			t.Errorf("pod %s: cleaner %+v with volume %+v, want a sidecar mounting /kubeci/%s/my-workflow", pod.Name, c, v, ns)
		}
	}
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		if c.Name == cleanerName {
			continue
		}
		if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/kubeci" {
			t.Errorf("container %s mounts %+v, want the workspace at /kubeci", c.Name, c.VolumeMounts)
		}
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		if env[kubeciv1.EnvStep] != c.Name || env[kubeciv1.EnvWorkplan] != run || env[kubeciv1.EnvTriggerName] != "my-config" {
			t.Errorf("container %s env = %v", c.Name, env)
		}
	}
	if ref := metav1.GetControllerOf(pod); ref == nil || ref.Kind != "Workplan" || ref.Name != run {
		t.Errorf("pod %s is controlled by %+v, want Workplan %s", pod.Name, ref, run)
	}
	if pod.Labels[kubeciv1.LabelWorkplan] != run || pod.Labels[kubeciv1.LabelWorkflow] != "my-workflow" {
		t.Errorf("pod %s labels = %v", pod.Name, pod.Labels)
	}
}

// checkMetrics checks that the controller's metrics are registered and
// counted something.
func checkMetrics(t *testing.T) {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range families {
		seen[f.GetName()] = len(f.GetMetric()) > 0
	}
	for _, name := range []string{"kubeci_workplans", "kubeci_workplans_running", "kubeci_workplan_duration_seconds",
		"kubeci_task_duration_seconds", "kubeci_pods_created_total"} {
		if !seen[name] {
			t.Errorf("metric %s is not registered or has no sample", name)
		}
	}
}

// A failing init container fails the run naming the step and its exit code;
// task 1's pod is never created; the workspace is still cleaned.
func TestFailingSerialStepFailsTheRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	run := h.createRun(h.createWorkflow(), "fail-serial").Name
	pod0 := names.TaskPod(run, 0)
	h.runPod(pod0)
	h.endPod(pod0, map[string]int32{"step-1": 3})

	wp := h.waitPhase(run, kubeciv1.WorkplanFailed)
	if want := `step "step-1" (task 0) failed with exit code 3`; wp.Status.Reason != want {
		t.Errorf("reason = %q, want %q", wp.Status.Reason, want)
	}
	if c := findCondition(wp, kubeciv1.ConditionSucceeded); c == nil || c.Status != metav1.ConditionFalse || c.Reason != kubeciv1.ReasonStepFailed {
		t.Errorf("Succeeded condition = %+v, want False/StepFailed", c)
	}
	h.runCleanup(run, 1, 0)
	h.waitCleaned(run, kubeciv1.ReasonCleaned)
	if slices.Contains(h.pods(), names.TaskPod(run, 1)) {
		t.Error("task 1's pod was created after task 0 failed")
	}
	h.waitEvent(run, workplan.EventStepFailed, `step "step-1" (task 0) failed with exit code 3`)
	h.waitEvent(run, workplan.EventFailed, "StepFailed")
}

// A failing parallel step fails the run at once: its sibling is stopped (the
// pod deleted), and the cleanup waits until the pod is gone.
func TestFailingParallelStepFailsTheRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	run := h.createRun(h.createWorkflow(), "fail-parallel").Name
	pod0 := names.TaskPod(run, 0)
	h.runPod(pod0)
	now := metav1.Now()
	h.setContainer(pod0, "step-1", corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, StartedAt: now, FinishedAt: now}})
	h.setContainer(pod0, "step-2", corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}})
	h.setContainer(pod0, "step-3", corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error", StartedAt: now, FinishedAt: now}})

	// The failed step's siblings finish first, as in a local run.
	h.waitRun(run, "the failure to be noted while step-2 runs", func(wp *kubeciv1.Workplan) bool {
		return wp.Status.Phase == kubeciv1.WorkplanRunning && strings.Contains(wp.Status.Reason, `step "step-3" (task 0) failed with exit code 2;`)
	})
	h.setPodStatus(pod0, func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodFailed
		for i := range p.Status.ContainerStatuses {
			if p.Status.ContainerStatuses[i].Name == "step-2" {
				p.Status.ContainerStatuses[i].State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, StartedAt: now, FinishedAt: now}}
			}
		}
	})
	wp := h.waitPhase(run, kubeciv1.WorkplanFailed)
	if want := `step "step-3" (task 0) failed with exit code 2`; wp.Status.Reason != want {
		t.Errorf("reason = %q, want %q", wp.Status.Reason, want)
	}
	h.runCleanup(run, 1, 0)
	wp = h.waitCleaned(run, kubeciv1.ReasonCleaned)
	phases := map[string]kubeciv1.StepPhase{}
	for _, s := range wp.Status.Steps {
		phases[s.Name] = s.Phase
	}
	want := map[string]kubeciv1.StepPhase{"step-1": "Succeeded", "step-2": "Succeeded", "step-3": "Failed", "step-4": "Skipped", "step-5": "Skipped"}
	if diff := cmp.Diff(want, phases); diff != "" {
		t.Errorf("step phases (-want +got):\n%s", diff)
	}
	if !slices.Contains(h.pods(), pod0) {
		t.Error("the failed task's pod must stay for its logs")
	}
	if slices.Contains(h.pods(), names.TaskPod(run, 1)) {
		t.Error("task 1's pod was created after task 0 failed")
	}
}
