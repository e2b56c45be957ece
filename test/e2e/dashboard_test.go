//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/browsertest"
	"github.com/kubeci/kubeci/test/e2e/images"
)

// startDashboard runs `kubeci dashboard` with the cluster's kubeconfig on a
// free loopback port and returns its URL; it stops when the test ends.
func startDashboard(t *testing.T, kubeconfig, ns string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, kubeciCLI(t), "-n", ns, "dashboard", "--port", "0")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("kubeci dashboard printed no address: %v", err)
	}
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "http://") {
			return strings.TrimSuffix(f, "/")
		}
	}
	t.Fatalf("no address in %q", line)
	return ""
}

// The dashboard on a real cluster: trigger the design doc's Workflow from its
// page, watch the run go through both tasks on its graph and its logs stream
// in, as the operator and the kubelet really run it. Screenshots of every page
// go to bin/e2e-screenshots/.
func TestDashboardFollowsARealRun(t *testing.T) {
	cl, c := installKubeCI(t)
	ns := workflowNamespace(t, cl, c, "", "configmaps")
	wf := docWorkflow(t, ns)
	wf.Spec.Triggers = nil
	// Slow enough for the page to show the steps running.
	for i := range wf.Spec.Steps {
		s := &wf.Spec.Steps[i]
		s.Commands = []string{"sh", "-c", fmt.Sprintf("echo starting %s; sleep 2; %s; echo done %s", s.Name, strings.Join(s.Args[1:], " "), s.Name)}
		s.Args = nil
	}
	slow := &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "slow"},
		Spec: kubeciv1.WorkflowSpec{Steps: []kubeciv1.Step{{Name: "wait", Image: images.Busybox, Commands: []string{"sh", "-c", "echo waiting; sleep 600"}}}}}
	for _, w := range []*kubeciv1.Workflow{wf, slow} {
		if err := c.Create(t.Context(), w); err != nil {
			t.Fatal(err)
		}
		waitWatching(t, c, w)
	}
	url := startDashboard(t, cl.Kubeconfig(), ns)
	shots := filepath.Join("..", "..", "bin", "e2e-screenshots")
	b := browsertest.New(t, shots)

	b.Run("opening the Workflows page", chromedp.Navigate(url+"/workflows?namespace="+ns),
		chromedp.WaitVisible(`a[href="/workflows/`+ns+`/`+wf.Name+`"]`))
	b.Click(`a[href="/workflows/` + ns + `/` + wf.Name + `"]`)
	b.Run("opening the workflow", chromedp.WaitVisible(`#trigger`))
	b.Click(`#trigger`)
	b.Run("clicking Trigger", chromedp.WaitVisible(`#trigger`))
	b.Wait("the run on the page", `!!document.querySelector("tr.run a")`)
	b.Click(`tr.run a`)
	b.Run("opening the run", chromedp.WaitVisible(`#phase`))
	b.Wait("step-1 running or done", `["Running", "Succeeded"].includes(document.querySelector('g.node[data-step="step-1"]').dataset.phase)`)
	b.Wait("step-5's log line", `document.getElementById("log").textContent.includes("step-5 | done step-5")`)
	b.Wait("the run Completed", `document.getElementById("phase").textContent === "Completed"`)
	b.Wait("every step succeeded", `[...document.querySelectorAll("g.node")].every(n => n.dataset.phase === "Succeeded")`)
	log := ""
	b.Run("reading the log", chromedp.Text(`#log`, &log))
	if strings.Index(log, "step-1 |") > strings.Index(log, "step-4 |") || strings.Index(log, "step-4 |") > strings.Index(log, "step-5 |") {
		t.Errorf("the logs must follow the plan's order:\n%s", log)
	}
	b.Screenshot("run")
	b.Run("back to the workflow", chromedp.Navigate(url+"/workflows/"+ns+"/"+wf.Name), chromedp.WaitVisible(`#trigger`))
	b.Screenshot("workflow")
	b.Run("back to the list", chromedp.Navigate(url+"/workflows?namespace="+ns), chromedp.WaitVisible(`#workflows`))
	b.Screenshot("workflows")

	// A long run, cancelled from its page.
	b.Run("opening the slow workflow", chromedp.Navigate(url+"/workflows/"+ns+"/slow"), chromedp.WaitVisible(`#trigger`))
	b.Click(`#trigger`)
	b.Run("triggering it", chromedp.WaitVisible(`#trigger`))
	b.Wait("its run", `!!document.querySelector("tr.run a")`)
	b.Click(`tr.run a`)
	b.Run("opening it", chromedp.WaitVisible(`#phase`))
	b.Wait("its log", `document.getElementById("log").textContent.includes("waiting")`)
	start := time.Now()
	b.Click(`#cancel`)
	b.Run("clicking Cancel", chromedp.WaitVisible(`#phase`))
	b.Wait("the run Failed", `document.getElementById("phase").textContent === "Failed"`)
	t.Logf("cancelled run shown Failed after %s", time.Since(start))
	b.Screenshot("run-cancelled")
	b.NoAlerts()
}
