package dashboard

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/testenv"
)

// browser is a headless Chromium driven through chromedp.
type browser struct {
	t   *testing.T
	ctx context.Context
	// alerts are the messages of alert() dialogs: an escaping bug would
	// run a script that opens one.
	mu     sync.Mutex
	alerts []string
	shots  string
}

// chromiumPath finds Debian's chromium. In CI a missing browser fails the
// test; elsewhere the test is skipped, saying how to install it.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("the browser tests need Chromium: apt-get install -y chromium")
	}
	t.Skip("skipping the browser test: no chromium on PATH (apt-get install -y chromium)")
	return ""
}

func newBrowser(t *testing.T, shots string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, shots: shots}
	chromedp.ListenTarget(ctx, func(ev any) {
		if d, ok := ev.(*cdppage.EventJavascriptDialogOpening); ok {
			if d.Type == cdppage.DialogTypeAlert {
				b.mu.Lock()
				b.alerts = append(b.alerts, d.Message)
				b.mu.Unlock()
			}
			go func() { _ = chromedp.Run(ctx, cdppage.HandleJavaScriptDialog(true)) }()
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return b
}

func (b *browser) run(what string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, testenv.WaitTimeout)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// wait waits until the JavaScript expression js is true on the page.
func (b *browser) wait(what, js string) {
	b.t.Helper()
	testenv.Eventually(b.t, what, func() error {
		var ok bool
		if err := chromedp.Run(b.ctx, chromedp.Evaluate(js, &ok)); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("not yet")
		}
		return nil
	})
}

// count evaluates a number on the page.
func (b *browser) count(js string) int {
	b.t.Helper()
	var n int
	b.run("counting "+js, chromedp.Evaluate(js, &n))
	return n
}

// screenshot saves the whole page as name.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	var png []byte
	b.run("screenshot "+name, chromedp.FullScreenshot(&png, 100))
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func (b *browser) noAlerts() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.alerts) > 0 {
		b.t.Errorf("a script ran on the page: alert(%q)", b.alerts)
	}
}

// The whole way through in a real browser: the Workflows page, a Workflow's
// graph, Trigger, the run appearing live, its graph and logs following the
// run, Cancel, Rerun.
func TestBrowser(t *testing.T) {
	f := newFixture(t, AuthKubeconfig)
	b := newBrowser(t, filepath.Join(f.env.Root, "bin", "dashboard-screenshots"))
	f.workflow("build")
	b.run("opening the Workflows page", chromedp.Navigate(f.url+"/workflows?namespace="+f.ns),
		chromedp.WaitVisible(`a[href="/workflows/`+f.ns+`/build"]`))
	b.screenshot("workflows")
	b.run("opening the workflow", chromedp.Click(`a[href="/workflows/`+f.ns+`/build"]`), chromedp.WaitVisible(`#trigger`))
	if n, e := b.count(`document.querySelectorAll("svg.dag g.node").length`), b.count(`document.querySelectorAll("svg.dag path.edge").length`); n != 5 || e != 6 {
		t.Errorf("the design doc's graph: %d nodes and %d edges, want 5 and 6", n, e)
	}

	// Trigger: the run appears live on the Workflow's page.
	b.run("clicking Trigger", chromedp.Click(`#trigger`), chromedp.WaitVisible(`#trigger`))
	run := f.waitRuns("build", 1)[0]
	b.wait("the new run on the page", fmt.Sprintf(`!!document.querySelector('tr.run[data-run=%q]')`, run.Name))
	b.screenshot("workflow")

	// The run's page follows its steps and logs.
	b.run("opening the run", chromedp.Click(fmt.Sprintf(`tr.run[data-run=%q] a`, run.Name)), chromedp.WaitVisible(`#phase`))
	if n, e := b.count(`document.querySelectorAll("svg.dag g.node").length`), b.count(`document.querySelectorAll("svg.dag path.edge").length`); n != 5 || e != 6 {
		t.Errorf("the run's graph: %d nodes and %d edges, want 5 and 6", n, e)
	}
	pod := names.TaskPod(run.Name, 0)
	start := time.Now()
	f.setStatus(run.Name, func(wp *kubeciv1.Workplan) {
		stepPhases(wp, kubeciv1.WorkplanRunning, map[string]kubeciv1.StepPhase{"step-1": kubeciv1.StepRunning})
		wp.Status.NodeName, wp.Status.PodName = "node-1", pod
	})
	b.wait("step-1 running", `document.querySelector('g.node[data-step="step-1"]').dataset.phase === "Running"`)
	t.Logf("step state change shown after %s", time.Since(start))
	f.logs.write(t, pod, "step-1", "cloning the repository", "\x1b[32mok\x1b[0m "+xss)
	b.wait("step-1's log lines", `document.getElementById("log").textContent.includes("cloning the repository")`)
	f.logs.close(pod, "step-1")
	f.setStatus(run.Name, func(wp *kubeciv1.Workplan) {
		stepPhases(wp, kubeciv1.WorkplanRunning, map[string]kubeciv1.StepPhase{"step-1": kubeciv1.StepSucceeded,
			"step-2": kubeciv1.StepRunning, "step-3": kubeciv1.StepRunning})
		wp.Status.NodeName, wp.Status.PodName = "node-1", pod
	})
	b.wait("step-1 succeeded", `document.querySelector('g.node[data-step="step-1"]').dataset.phase === "Succeeded"`)
	f.logs.write(t, pod, "step-2", "building step 2")
	f.logs.write(t, pod, "step-3", "testing step 3")
	b.wait("the parallel steps' lines", `["step-2 | building", "step-3 | testing"].every(s => document.getElementById("log").textContent.includes(s))`)
	b.screenshot("run")

	// Cancel: the run ends Failed (Cancelled) on the page.
	b.run("clicking Cancel", chromedp.Click(`#cancel`), chromedp.WaitVisible(`#phase`))
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
	b.wait("the run Failed", `document.getElementById("phase").textContent === "Failed"`)
	b.wait("no Cancel button on an ended run", `!document.getElementById("cancel")`)
	b.wait("the end of the logs", `document.getElementById("log-status").textContent.includes("Failed")`)

	// Rerun: a new run of the same trigger and steps.
	b.run("clicking Rerun", chromedp.Click(`#rerun`), chromedp.WaitVisible(`#trigger`))
	runs := f.waitRuns("build", 2)
	for _, wp := range runs {
		if wp.Name != run.Name && wp.Spec.RerunOf != run.Name {
			t.Errorf("the rerun %s records %q, want %s", wp.Name, wp.Spec.RerunOf, run.Name)
		}
	}
	b.wait("the rerun on the page", `document.getElementById("runs").textContent.includes("rerun of")`)
	b.noAlerts()
}

// In token mode a viewer logs in with a token and is refused what its RBAC
// does not allow.
func TestBrowserTokenLogin(t *testing.T) {
	f := newFixture(t, AuthToken)
	b := newBrowser(t, filepath.Join(f.env.Root, "bin", "dashboard-screenshots"))
	f.workflow("build")
	token := f.viewOnlyToken()
	b.run("logging in", chromedp.Navigate(f.url+"/login"), chromedp.WaitVisible(`#token`),
		chromedp.SendKeys(`#token`, token), chromedp.Click(`#login`))
	b.run("opening the workflow", chromedp.Navigate(f.url+"/workflows/"+f.ns+"/build"), chromedp.WaitVisible(`#trigger`))
	b.run("clicking Trigger", chromedp.Click(`#trigger`), chromedp.WaitVisible(`#error`))
	var msg string
	b.run("reading the error", chromedp.Text(`#error`, &msg))
	if !strings.Contains(msg, "forbidden") || !strings.Contains(msg, "system:serviceaccount:"+f.ns+":viewer") {
		t.Errorf("want the API server's refusal of the viewer, got %q", msg)
	}
	b.screenshot("refused")
	if runs := f.runs("build"); len(runs) != 0 {
		t.Errorf("a refused trigger started %d runs", len(runs))
	}
}
