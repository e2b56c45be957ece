//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/config/samples"
	"github.com/kubeci/kubeci/test/e2e/cluster"
	"github.com/kubeci/kubeci/test/e2e/images"
)

// runTimeout bounds one run of a workflow on the cluster.
const runTimeout = 3 * time.Minute

// workspaceRoot is where the operator keeps workspaces on the node (its
// default); the node is this machine.
const workspaceRoot = "/kubeci"

// The tests use controller-runtime's client, which logs through its own
// logger: these tests report through testing instead.
func init() { ctrllog.SetLogger(logr.Discard()) }

// workflowNamespace is a fresh namespace whose default ServiceAccount may
// read the given resources (so the Workflows' triggers pass the access check).
func workflowNamespace(t *testing.T, cl *cluster.Cluster, c client.Client, group string, resources ...string) string {
	t.Helper()
	ns := cl.Namespace(t)
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "triggers", Namespace: ns},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{group}, Resources: resources, Verbs: []string{"get", "list", "watch"}}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "triggers", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "triggers"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default", Namespace: ns}},
	}
	for _, obj := range []client.Object{role, binding} {
		if err := c.Create(t.Context(), obj); err != nil {
			t.Fatal(err)
		}
	}
	return ns
}

// docWorkflow is the design doc's Workflow (config/samples) in ns, running the
// local busybox image.
func docWorkflow(t *testing.T, ns string) *kubeciv1.Workflow {
	t.Helper()
	wf := samples.Workflow()
	wf.Namespace = ns
	wf.Spec.Triggers[0].Namespace = ""
	for i := range wf.Spec.Steps {
		wf.Spec.Steps[i].Image = images.Busybox
	}
	return wf
}

// runs lists a Workflow's Workplans.
func runs(t *testing.T, c client.Client, ns, wf string) []kubeciv1.Workplan {
	t.Helper()
	var list kubeciv1.WorkplanList
	if err := c.List(t.Context(), &list, client.InNamespace(ns), client.MatchingLabels{kubeciv1.LabelWorkflow: wf}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// waitRuns waits until wf has n Workplans, all finished with their workspace
// cleaned, and returns them oldest first. It fails at once if there are more.
func waitRuns(t *testing.T, c client.Client, ns, wf string, n int) []kubeciv1.Workplan {
	t.Helper()
	var got []kubeciv1.Workplan
	poll(t, fmt.Sprintf("%d finished runs of %s", n, wf), runTimeout, func() error {
		got = runs(t, c, ns, wf)
		if len(got) > n {
			t.Fatalf("want %d runs of %s, got %d", n, wf, len(got))
		}
		if len(got) < n {
			return fmt.Errorf("%d runs so far", len(got))
		}
		for _, wp := range got {
			if !wp.Status.Phase.Finished() || !conditionTrue(wp.Status.Conditions, kubeciv1.ConditionWorkspaceCleaned) {
				return fmt.Errorf("run %s: phase %q, reason %q, conditions %+v", wp.Name, wp.Status.Phase, wp.Status.Reason, wp.Status.Conditions)
			}
		}
		return nil
	})
	sortByCreation(got)
	return got
}

func sortByCreation(wps []kubeciv1.Workplan) {
	for i := 1; i < len(wps); i++ {
		for j := i; j > 0 && wps[j].Status.StartTime != nil && wps[j-1].Status.StartTime != nil &&
			wps[j].Status.StartTime.Before(wps[j-1].Status.StartTime); j-- {
			wps[j], wps[j-1] = wps[j-1], wps[j]
		}
	}
}

func conditionTrue(conds []metav1.Condition, typ string) bool {
	for _, c := range conds {
		if c.Type == typ {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// poll retries cond every half second until it returns nil or timeout passes.
func poll(t *testing.T, what string, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %v", timeout, what, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// taskPods lists the pods that ran wp's tasks.
func taskPods(t *testing.T, cl *cluster.Cluster, wp *kubeciv1.Workplan) []corev1.Pod {
	t.Helper()
	pods, err := cl.Clientset.CoreV1().Pods(wp.Namespace).List(t.Context(), metav1.ListOptions{
		LabelSelector: kubeciv1.LabelWorkplan + "=" + wp.Name + "," + kubeciv1.LabelTask + "!=cleanup"})
	if err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// stepLog returns the log of a step's container in wp's task pod.
func stepLog(t *testing.T, cl *cluster.Cluster, wp *kubeciv1.Workplan, task int, step string) string {
	t.Helper()
	for _, pod := range taskPods(t, cl, wp) {
		if pod.Labels[kubeciv1.LabelTask] != fmt.Sprint(task) {
			continue
		}
		out, err := cl.Clientset.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: step}).DoRaw(t.Context())
		if err != nil {
			t.Fatalf("logs of %s/%s: %v", pod.Name, step, err)
		}
		return string(out)
	}
	t.Fatalf("no pod of task %d of %s", task, wp.Name)
	return ""
}

// workspaceGone checks that wp's workspace folder was removed from the node.
func workspaceGone(t *testing.T, wp *kubeciv1.Workplan) {
	t.Helper()
	dir := filepath.Join(workspaceRoot, wp.Namespace, wp.Spec.Workflow, wp.Name)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the workspace %s must be removed after the run, stat says %v", dir, err)
	}
}
