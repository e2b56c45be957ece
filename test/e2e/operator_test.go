//go:build e2e

package e2e

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/test/e2e/images"
)

// The operator's pod is deleted while a run is in its first task: the
// Deployment brings a new one up, which picks the run up where it was. The run
// completes once, with one pod per task.
func TestRunSurvivesOperatorRestart(t *testing.T) {
	cl, c := installKubeCI(t)
	ns := workflowNamespace(t, cl, c, "", "configmaps")
	step := func(name, script string, deps ...string) kubeciv1.Step {
		return kubeciv1.Step{Name: name, Image: images.Busybox, Commands: []string{"sh", "-c", script}, Dependency: deps}
	}
	wf := &kubeciv1.Workflow{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "survivor"},
		Spec: kubeciv1.WorkflowSpec{Steps: []kubeciv1.Step{
			step("start", "date > /kubeci/started"),
			step("slow", "sleep 20; echo slow > /kubeci/slow", "start"),
			step("quick", "echo quick > /kubeci/quick", "start"),
			step("finish", "cat /kubeci/slow /kubeci/quick", "slow", "quick"),
		}},
	}
	if err := c.Create(t.Context(), wf); err != nil {
		t.Fatal(err)
	}
	waitWatching(t, c, wf)
	patch := client.RawPatch("application/merge-patch+json",
		[]byte(`{"metadata":{"annotations":{"`+kubeciv1.AnnotationRunRequest+`":"e2e-restart"}}}`))
	if err := c.Patch(t.Context(), wf, patch); err != nil {
		t.Fatal(err)
	}
	poll(t, "the run to be running its first task", runTimeout, func() error {
		rs := runs(t, c, ns, wf.Name)
		if len(rs) != 1 || rs[0].Status.Phase != kubeciv1.WorkplanRunning {
			return fmt.Errorf("runs: %d", len(rs))
		}
		return nil
	})

	cl.Kubectl(t, "-n", "kubeci-system", "delete", "pod", "-l", "app.kubernetes.io/name=kubeci-operator", "--wait=true")
	cl.Kubectl(t, "-n", "kubeci-system", "rollout", "status", "deployment/kubeci-operator", "--timeout=3m")

	run := waitRuns(t, c, ns, wf.Name, 1)[0]
	if run.Status.Phase != kubeciv1.WorkplanCompleted {
		t.Fatalf("want Completed, got %s (%s)", run.Status.Phase, run.Status.Reason)
	}
	if pods := taskPods(t, cl, &run); len(pods) != 2 {
		t.Errorf("want exactly one pod per task (2), got %d", len(pods))
	}
	if log := stepLog(t, cl, &run, 1, "finish"); log != "slow\nquick\n" {
		t.Errorf("finish must see both outputs, got %q", log)
	}
	workspaceGone(t, &run)
}
