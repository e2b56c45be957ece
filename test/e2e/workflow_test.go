//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/test/e2e/cluster"
	"github.com/kubeci/kubeci/test/e2e/images"
)

// The design doc's Workflow runs for real when ConfigMap my-config is
// created, updated and deleted: init and parallel containers, a hostPath
// workspace shared between the two task pods on one node, and its removal.
func TestDesignDocWorkflowRunsOnEachChange(t *testing.T) {
	cl, c := installKubeCI(t)
	ns := workflowNamespace(t, cl, c, "", "configmaps")
	wf := docWorkflow(t, ns)
	if err := c.Create(t.Context(), wf); err != nil {
		t.Fatal(err)
	}
	waitWatching(t, c, wf)

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "my-config"}, Data: map[string]string{"v": "1"}}
	if err := c.Create(t.Context(), cm); err != nil {
		t.Fatal(err)
	}
	first := waitRuns(t, c, ns, wf.Name, 1)[0]
	if first.Status.Phase != kubeciv1.WorkplanCompleted {
		t.Fatalf("run %s: phase %s, reason %q", first.Name, first.Status.Phase, first.Status.Reason)
	}
	log := stepLog(t, cl, &first, 1, "step-5")
	for _, want := range []string{"step-5", "file-1", "file-2", "file-3", "file-4"} {
		if !strings.Contains(log, want) {
			t.Errorf("step-5's log must list %s, got:\n%s", want, log)
		}
	}
	pods := taskPods(t, cl, &first)
	if len(pods) != 2 || pods[0].Spec.NodeName != first.Status.NodeName || pods[1].Spec.NodeName != first.Status.NodeName {
		t.Errorf("want two task pods on node %q, got %d", first.Status.NodeName, len(pods))
	}
	workspaceGone(t, &first)
	cleanedBySidecar(t, cl, &first)
	t.Logf("trigger to Completed: %s", first.Status.CompletionTime.Sub(first.CreationTimestamp.Time))

	cm.Data["v"] = "2"
	if err := c.Update(t.Context(), cm); err != nil {
		t.Fatal(err)
	}
	second := waitRuns(t, c, ns, wf.Name, 2)[1]
	if second.Spec.Trigger.Event != kubeciv1.EventUpdated || second.Status.Phase != kubeciv1.WorkplanCompleted {
		t.Errorf("second run: %s %s (%s)", second.Spec.Trigger.Event, second.Status.Phase, second.Status.Reason)
	}

	if err := c.Delete(t.Context(), cm); err != nil {
		t.Fatal(err)
	}
	third := waitRuns(t, c, ns, wf.Name, 3)[2]
	if third.Spec.Trigger.Event != kubeciv1.EventDeleted || third.Status.Phase != kubeciv1.WorkplanCompleted {
		t.Errorf("third run: %s %s (%s)", third.Spec.Trigger.Event, third.Status.Phase, third.Status.Reason)
	}
	workspaceGone(t, &third)
	cleanedBySidecar(t, cl, &third)
}

// cleanedBySidecar checks that a successful run's workspace was removed by
// the workspace cleaner of its last task's pod, a native sidecar a real
// kubelet stopped once the steps had exited: its container exited 0, the
// WorkspaceCleaned condition says so, and no cleanup pod was created (the
// Workplan's Events name none).
func cleanedBySidecar(t *testing.T, cl *cluster.Cluster, wp *kubeciv1.Workplan) {
	t.Helper()
	last := names.TaskPod(wp.Name, len(wp.Spec.Tasks)-1)
	c := meta.FindStatusCondition(wp.Status.Conditions, kubeciv1.ConditionWorkspaceCleaned)
	if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, "workspace cleaner of pod "+last) {
		t.Errorf("run %s: WorkspaceCleaned = %+v, want True, removed by the workspace cleaner of %s", wp.Name, c, last)
	}
	pod, err := cl.Clientset.CoreV1().Pods(wp.Namespace).Get(t.Context(), last, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var cleaner *corev1.ContainerStatus
	for i, cs := range pod.Status.InitContainerStatuses {
		if cs.Name == "kubeci-cleanup" {
			cleaner = &pod.Status.InitContainerStatuses[i]
		}
	}
	if cleaner == nil || cleaner.State.Terminated == nil || cleaner.State.Terminated.ExitCode != 0 {
		t.Errorf("pod %s: the workspace cleaner's status is %+v, want terminated with exit code 0", last, cleaner)
		t.Log(cl.Kubectl(t, "-n", wp.Namespace, "get", "pod", last, "-o", "yaml"))
	} else if log, err := cl.Clientset.CoreV1().Pods(wp.Namespace).GetLogs(last, &corev1.PodLogOptions{Container: "kubeci-cleanup"}).DoRaw(t.Context()); err != nil ||
		!strings.Contains(string(log), "kubeci: removed /workspaces/"+wp.Name) {
		t.Errorf("the workspace cleaner's log %q (%v) should say it removed the workspace", log, err)
	}
	events, err := cl.Clientset.EventsV1().Events(wp.Namespace).List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		if e.Regarding.Kind == "Pod" && e.Regarding.Name == names.CleanupPod(wp.Name) {
			t.Errorf("a cleanup pod was created for run %s: event %s %q", wp.Name, e.Reason, e.Note)
			break
		}
	}
}

// A step that exits 3 fails the run naming the step and the code; no later
// task starts, and the workspace is still cleaned.
func TestFailingStepFailsTheRun(t *testing.T) {
	cl, c := installKubeCI(t)
	ns := workflowNamespace(t, cl, c, "", "configmaps")
	wf := &kubeciv1.Workflow{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "failing"},
		Spec: kubeciv1.WorkflowSpec{
			Steps: []kubeciv1.Step{
				{Name: "prepare", Image: images.Busybox, Commands: []string{"sh", "-c", "touch /kubeci/prepared"}},
				{Name: "check", Image: images.Busybox, Commands: []string{"sh", "-c", "echo checking; exit 3"}, Dependency: []string{"prepare"}},
				{Name: "fan-a", Image: images.Busybox, Commands: []string{"true"}, Dependency: []string{"check"}},
				{Name: "fan-b", Image: images.Busybox, Commands: []string{"true"}, Dependency: []string{"check"}},
				{Name: "publish", Image: images.Busybox, Commands: []string{"true"}, Dependency: []string{"fan-a", "fan-b"}},
			},
			Triggers: []kubeciv1.Trigger{{APIVersion: "v1", Kind: "ConfigMap", Name: "go", OnAddOrUpdate: true}},
		},
	}
	if err := c.Create(t.Context(), wf); err != nil {
		t.Fatal(err)
	}
	waitWatching(t, c, wf)
	if err := c.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "go"}}); err != nil {
		t.Fatal(err)
	}
	run := waitRuns(t, c, ns, wf.Name, 1)[0]
	if run.Status.Phase != kubeciv1.WorkplanFailed {
		t.Fatalf("want Failed, got %s (%s)", run.Status.Phase, run.Status.Reason)
	}
	if !strings.Contains(run.Status.Reason, `"check"`) || !strings.Contains(run.Status.Reason, "3") {
		t.Errorf("the reason must name step check and exit code 3: %q", run.Status.Reason)
	}
	if pods := taskPods(t, cl, &run); len(pods) != 1 {
		t.Errorf("no task after the failed one may start: %d task pods", len(pods))
		t.Log(cl.Kubectl(t, "-n", ns, "get", "pods", "--show-labels", "-o", "wide"))
		t.Log(cl.Kubectl(t, "-n", ns, "get", "workplans", "-o", "yaml"))
	}
	workspaceGone(t, &run)
	// The run failed in its first task: its last task's pod, and its
	// workspace cleaner, never ran, so a cleanup pod removed the workspace.
	if c := meta.FindStatusCondition(run.Status.Conditions, kubeciv1.ConditionWorkspaceCleaned); c == nil || c.Reason != kubeciv1.ReasonCleaned ||
		strings.Contains(c.Message, "workspace cleaner") {
		t.Errorf("WorkspaceCleaned = %+v, want Cleaned by the cleanup pod", c)
	}
	poll(t, "the scheduler's event for the cleanup pod", runTimeout, func() error {
		events, err := cl.Clientset.CoreV1().Events(ns).List(t.Context(), metav1.ListOptions{FieldSelector: "involvedObject.name=" + names.CleanupPod(run.Name)})
		if err != nil {
			return err
		}
		if len(events.Items) == 0 {
			return fmt.Errorf("no event about pod %s", names.CleanupPod(run.Name))
		}
		return nil
	})
}

// The last task's workspace cleaner also cleans after a failure in that
// task, and after a cancel while that task runs: a real kubelet stops it (with
// SIGTERM) once the steps have exited or been stopped.
func TestWorkspaceCleanerAfterFailureAndCancel(t *testing.T) {
	cl, c := installKubeCI(t)
	ns := workflowNamespace(t, cl, c, "", "configmaps")
	workflow := func(name, last string) *kubeciv1.Workflow {
		return &kubeciv1.Workflow{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: kubeciv1.WorkflowSpec{
				Steps: []kubeciv1.Step{
					{Name: "prepare", Image: images.Busybox, Commands: []string{"sh", "-c", "touch /kubeci/a"}},
					{Name: "left", Image: images.Busybox, Commands: []string{"true"}, Dependency: []string{"prepare"}},
					{Name: "right", Image: images.Busybox, Commands: []string{"true"}, Dependency: []string{"prepare"}},
					{Name: "last", Image: images.Busybox, Commands: []string{"sh", "-c", last}, Dependency: []string{"left", "right"}},
				},
				Triggers: []kubeciv1.Trigger{{APIVersion: "v1", Kind: "ConfigMap", Name: name, OnAddOrUpdate: true}},
			},
		}
	}
	start := func(wf *kubeciv1.Workflow) {
		t.Helper()
		if err := c.Create(t.Context(), wf); err != nil {
			t.Fatal(err)
		}
		waitWatching(t, c, wf)
		if err := c.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: wf.Name}}); err != nil {
			t.Fatal(err)
		}
	}
	cleanedByCleaner := func(wp *kubeciv1.Workplan) {
		t.Helper()
		workspaceGone(t, wp)
		cond := meta.FindStatusCondition(wp.Status.Conditions, kubeciv1.ConditionWorkspaceCleaned)
		if cond == nil || cond.Status != metav1.ConditionTrue || !strings.Contains(cond.Message, "workspace cleaner of pod "+names.TaskPod(wp.Name, 1)) {
			t.Errorf("run %s (%s: %s): WorkspaceCleaned = %+v, want True, by the last pod's workspace cleaner", wp.Name, wp.Status.Phase, wp.Status.Reason, cond)
		}
	}

	// A step of the last task fails.
	failing := workflow("last-fails", "echo failing; exit 4")
	start(failing)
	run := waitRuns(t, c, ns, failing.Name, 1)[0]
	if run.Status.Phase != kubeciv1.WorkplanFailed || !strings.Contains(run.Status.Reason, `"last"`) {
		t.Errorf("run %s: %s (%s), want Failed by step last", run.Name, run.Status.Phase, run.Status.Reason)
	}
	cleanedByCleaner(&run)

	// The run is cancelled while its last task runs.
	slow := workflow("last-cancelled", "sleep 300")
	start(slow)
	var wp kubeciv1.Workplan
	poll(t, "the last task to run", runTimeout, func() error {
		rs := runs(t, c, ns, slow.Name)
		if len(rs) != 1 {
			return fmt.Errorf("%d runs", len(rs))
		}
		wp = rs[0]
		for _, s := range wp.Status.Steps {
			if s.Name == "last" && s.Phase == kubeciv1.StepRunning {
				return nil
			}
		}
		return fmt.Errorf("run %s: %s (%s)", wp.Name, wp.Status.Phase, wp.Status.Reason)
	})
	patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"cancelled":true}}`))
	if err := c.Patch(t.Context(), &wp, patch); err != nil {
		t.Fatal(err)
	}
	run = waitRuns(t, c, ns, slow.Name, 1)[0]
	if cond := meta.FindStatusCondition(run.Status.Conditions, kubeciv1.ConditionSucceeded); cond == nil || cond.Reason != kubeciv1.ReasonCancelled {
		t.Errorf("run %s: Succeeded = %+v, want Cancelled", run.Name, cond)
	}
	cleanedByCleaner(&run)
}

// Deleting a Workflow removes its Workplans and their pods.
func TestDeletingWorkflowRemovesItsRuns(t *testing.T) {
	cl, c := installKubeCI(t)
	ns := workflowNamespace(t, cl, c, "", "configmaps")
	wf := docWorkflow(t, ns)
	if err := c.Create(t.Context(), wf); err != nil {
		t.Fatal(err)
	}
	waitWatching(t, c, wf)
	if err := c.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "my-config"}}); err != nil {
		t.Fatal(err)
	}
	waitRuns(t, c, ns, wf.Name, 1)

	if err := c.Delete(t.Context(), wf, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
		t.Fatal(err)
	}
	poll(t, "the workflow's runs and pods to be garbage-collected", runTimeout, func() error {
		if n := len(runs(t, c, ns, wf.Name)); n > 0 {
			return fmt.Errorf("%d workplans left", n)
		}
		pods, err := cl.Clientset.CoreV1().Pods(ns).List(t.Context(), metav1.ListOptions{LabelSelector: kubeciv1.LabelWorkflow + "=" + wf.Name})
		if err != nil {
			return err
		}
		if n := len(pods.Items); n > 0 {
			return fmt.Errorf("%d pods left", n)
		}
		return nil
	})
}

// A trigger on a custom resource of a CRD created during the test.
func TestTriggerOnCustomResource(t *testing.T) {
	cl, c := installKubeCI(t)
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "releases.e2e.kube.ci"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "e2e.kube.ci",
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "releases", Singular: "release", Kind: "Release", ListKind: "ReleaseList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptrTrue(),
				}},
			}},
		},
	}
	if err := c.Create(t.Context(), crd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(t.Context(), crd) })
	// The operator may watch Releases through its aggregated triggers role.
	grant := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeci-triggers-e2e-releases", Labels: map[string]string{"kube.ci/aggregate-to-operator-triggers": "true"}},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"e2e.kube.ci"}, Resources: []string{"releases"}, Verbs: []string{"list", "watch"}}},
	}
	if err := c.Create(t.Context(), grant); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(t.Context(), grant) })

	ns := workflowNamespace(t, cl, c, "e2e.kube.ci", "releases")
	wf := &kubeciv1.Workflow{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "on-release"},
		Spec: kubeciv1.WorkflowSpec{
			Steps:    []kubeciv1.Step{{Name: "announce", Image: images.Busybox, Commands: []string{"sh", "-c", "echo release $KUBECI_TRIGGER_NAME"}}},
			Triggers: []kubeciv1.Trigger{{APIVersion: "e2e.kube.ci/v1", Kind: "Release", OnAddOrUpdate: true}},
		},
	}
	if err := c.Create(t.Context(), wf); err != nil {
		t.Fatal(err)
	}
	waitWatching(t, c, wf)
	rel := &unstructured.Unstructured{}
	rel.SetAPIVersion("e2e.kube.ci/v1")
	rel.SetKind("Release")
	rel.SetNamespace(ns)
	rel.SetName("v1-0")
	if err := c.Create(t.Context(), rel); err != nil {
		t.Fatal(err)
	}
	run := waitRuns(t, c, ns, wf.Name, 1)[0]
	if run.Status.Phase != kubeciv1.WorkplanCompleted {
		t.Fatalf("want Completed, got %s (%s)", run.Status.Phase, run.Status.Reason)
	}
	if log := stepLog(t, cl, &run, 0, "announce"); !strings.Contains(log, "release v1-0") {
		t.Errorf("the step must see the trigger in its environment, log: %q", log)
	}
}

// waitWatching waits for wf to be Ready with its triggers watched.
func waitWatching(t *testing.T, c client.Client, wf *kubeciv1.Workflow) {
	t.Helper()
	poll(t, "workflow "+wf.Name+" to be Ready", runTimeout, func() error {
		got := &kubeciv1.Workflow{}
		if err := c.Get(t.Context(), client.ObjectKeyFromObject(wf), got); err != nil {
			return err
		}
		for _, cond := range got.Status.Conditions {
			if cond.Type == kubeciv1.ConditionReady && cond.Status == metav1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", got.Status.Conditions)
	})
}

func ptrTrue() *bool { b := true; return &b }
