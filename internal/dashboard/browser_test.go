package dashboard

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/browsertest"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/testenv"
)

// The whole way through in a real browser: the Workflows page, a Workflow's
// graph, Trigger, the run appearing live, its graph and logs following the
// run, Cancel, Rerun.
func TestBrowser(t *testing.T) {
	f := newFixture(t, AuthKubeconfig)
	b := browsertest.New(t, filepath.Join(f.env.Root, "bin", "dashboard-screenshots"))
	f.workflow("build")
	b.Run("opening the Workflows page", chromedp.Navigate(f.url+"/workflows?namespace="+f.ns),
		chromedp.WaitVisible(`a[href="/workflows/`+f.ns+`/build"]`))
	b.Screenshot("workflows")
	b.Click(`a[href="/workflows/` + f.ns + `/build"]`)
	b.Run("opening the workflow", chromedp.WaitVisible(`#trigger`))
	if n, e := b.Count(`document.querySelectorAll("svg.dag g.node").length`), b.Count(`document.querySelectorAll("svg.dag path.edge").length`); n != 5 || e != 6 {
		t.Errorf("the design doc's graph: %d nodes and %d edges, want 5 and 6", n, e)
	}

	// Trigger: the run appears live on the Workflow's page.
	b.Click(`#trigger`)
	b.Run("clicking Trigger", chromedp.WaitVisible(`#trigger`))
	run := f.waitRuns("build", 1)[0]
	b.Wait("the new run on the page", fmt.Sprintf(`!!document.querySelector('tr.run[data-run=%q]')`, run.Name))
	b.Screenshot("workflow")

	// The run's page follows its steps and logs.
	b.Click(fmt.Sprintf(`tr.run[data-run=%q] a`, run.Name))
	b.Run("opening the run", chromedp.WaitVisible(`#phase`))
	if n, e := b.Count(`document.querySelectorAll("svg.dag g.node").length`), b.Count(`document.querySelectorAll("svg.dag path.edge").length`); n != 5 || e != 6 {
		t.Errorf("the run's graph: %d nodes and %d edges, want 5 and 6", n, e)
	}
	pod := names.TaskPod(run.Name, 0)
	start := time.Now()
	f.setStatus(run.Name, func(wp *kubeciv1.Workplan) {
		stepPhases(wp, kubeciv1.WorkplanRunning, map[string]kubeciv1.StepPhase{"step-1": kubeciv1.StepRunning})
		wp.Status.NodeName, wp.Status.PodName = "node-1", pod
	})
	b.Wait("step-1 running", `document.querySelector('g.node[data-step="step-1"]').dataset.phase === "Running"`)
	t.Logf("step state change shown after %s", time.Since(start))
	f.logs.write(t, pod, "step-1", "cloning the repository", "\x1b[32mok\x1b[0m checked out main@4f2c1a9")
	b.Wait("step-1's log lines", `document.getElementById("log").textContent.includes("cloning the repository")`)
	f.logs.close(pod, "step-1")
	f.setStatus(run.Name, func(wp *kubeciv1.Workplan) {
		stepPhases(wp, kubeciv1.WorkplanRunning, map[string]kubeciv1.StepPhase{"step-1": kubeciv1.StepSucceeded,
			"step-2": kubeciv1.StepRunning, "step-3": kubeciv1.StepRunning})
		wp.Status.NodeName, wp.Status.PodName = "node-1", pod
	})
	b.Wait("step-1 succeeded", `document.querySelector('g.node[data-step="step-1"]').dataset.phase === "Succeeded"`)
	f.logs.write(t, pod, "step-2", "building step 2")
	f.logs.write(t, pod, "step-3", "testing step 3")
	b.Wait("the parallel steps' lines", `["step-2 | building", "step-3 | testing"].every(s => document.getElementById("log").textContent.includes(s))`)
	b.Screenshot("run")
	b.ColorScheme("dark")
	b.Screenshot("run-dark")
	b.ColorScheme("light")

	// A hostile log line is shown as text.
	f.logs.write(t, pod, "step-2", xss)
	b.Wait("the hostile line as text", `document.getElementById("log").textContent.includes('<img src=x onerror=alert(1)>')`)

	// Cancel: the run ends Failed (Cancelled) on the page.
	b.Click(`#cancel`)
	b.Run("clicking Cancel", chromedp.WaitVisible(`#phase`))
	testenv.Eventually(t, "the run to be cancelled", func() error {
		for _, wp := range f.runs("build") {
			if wp.Name == run.Name && wp.Spec.Cancelled {
				return nil
			}
		}
		return fmt.Errorf("spec.cancelled not set")
	})
	f.logs.close(pod, "step-2")
	f.logs.close(pod, "step-3")
	f.setStatus(run.Name, func(wp *kubeciv1.Workplan) {
		wp.Status.Phase, wp.Status.Reason = kubeciv1.WorkplanFailed, "cancelled: spec.cancelled was set"
	})
	b.Wait("the run Failed", `document.getElementById("phase").textContent === "Failed"`)
	b.Wait("no Cancel button on an ended run", `!document.getElementById("cancel")`)
	b.Wait("the end of the logs", `document.getElementById("log-status").textContent.includes("Failed")`)

	// Rerun: a new run of the same trigger and steps.
	b.Click(`#rerun`)
	b.Run("clicking Rerun", chromedp.WaitVisible(`#trigger`))
	runs := f.waitRuns("build", 2)
	for _, wp := range runs {
		if wp.Name != run.Name && wp.Spec.RerunOf != run.Name {
			t.Errorf("the rerun %s records %q, want %s", wp.Name, wp.Spec.RerunOf, run.Name)
		}
	}
	b.Wait("the rerun on the page", `document.getElementById("runs").textContent.includes("rerun of")`)
	b.NoAlerts()
}

// In token mode a viewer logs in with a token and is refused what its RBAC
// does not allow.
func TestBrowserTokenLogin(t *testing.T) {
	f := newFixture(t, AuthToken)
	b := browsertest.New(t, filepath.Join(f.env.Root, "bin", "dashboard-screenshots"))
	f.workflow("build")
	token := f.viewOnlyToken()
	b.Run("logging in", chromedp.Navigate(f.url+"/login"), chromedp.WaitVisible(`#token`),
		chromedp.SendKeys(`#token`, token), chromedp.Click(`#login`), chromedp.WaitVisible(`#workflows`))
	b.Run("opening the workflow", chromedp.Navigate(f.url+"/workflows/"+f.ns+"/build"), chromedp.WaitVisible(`#trigger`))
	b.Click(`#trigger`)
	b.Run("clicking Trigger", chromedp.WaitVisible(`#error`))
	var msg string
	b.Run("reading the error", chromedp.Text(`#error`, &msg))
	if !strings.Contains(msg, "forbidden") || !strings.Contains(msg, "system:serviceaccount:"+f.ns+":viewer") {
		t.Errorf("want the API server's refusal of the viewer, got %q", msg)
	}
	b.Screenshot("refused")
	if runs := f.runs("build"); len(runs) != 0 {
		t.Errorf("a refused trigger started %d runs", len(runs))
	}
}
