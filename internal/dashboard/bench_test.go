package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/browsertest"
	"github.com/kubeci/kubeci/internal/plan"
)

// The dashboard's figures, in a real browser against envtest:
//
//	go test ./internal/dashboard -run '^$' -bench . -benchtime 5x
//
// first-paint-ms is the browser's first contentful paint after navigation
// (performance.getEntriesByName), the page served by the dashboard from the
// API server; change-to-page-ms is from writing a step's new state to the
// API server until the page shows it.

// firstPaint loads url and returns the first contentful paint, in ms.
func firstPaint(b *testing.B, br *browsertest.Browser, url, ready string) float64 {
	var ms float64
	br.Run("loading "+url, chromedp.Navigate(url), chromedp.WaitVisible(ready),
		chromedp.Evaluate(`(performance.getEntriesByName("first-contentful-paint")[0] || {startTime: -1}).startTime`, &ms))
	return ms
}

// wideWorkflow has n steps in levels of eight: each step depends on two of
// the level before.
func wideWorkflow(ns string, n int) *kubeciv1.Workflow {
	wf := &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("wide-%d", n)}}
	for i := range n {
		s := kubeciv1.Step{Name: fmt.Sprintf("step-%02d", i), Image: "busybox", Commands: []string{"true"}}
		if i >= 8 {
			s.Dependency = []string{fmt.Sprintf("step-%02d", i-8), fmt.Sprintf("step-%02d", i-8+(i+1)%8)}
			if s.Dependency[0] == s.Dependency[1] {
				s.Dependency = s.Dependency[:1]
			}
		}
		wf.Spec.Steps = append(wf.Spec.Steps, s)
	}
	return wf
}

func BenchmarkRunPage64Steps(b *testing.B) {
	f := newFixtureWithoutOperator(b, AuthKubeconfig)
	wf := wideWorkflow(f.ns, kubeciv1.MaxSteps)
	if err := f.env.Client.Create(context.Background(), wf); err != nil {
		b.Fatal(err)
	}
	wp, err := plan.NewWorkplan(wf, kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}, "wide-run")
	if err != nil {
		b.Fatal(err)
	}
	if err := f.env.Client.Create(context.Background(), wp); err != nil {
		b.Fatal(err)
	}
	f.setStatus(wp.Name, func(wp *kubeciv1.Workplan) {
		stepPhases(wp, kubeciv1.WorkplanRunning, map[string]kubeciv1.StepPhase{"step-00": kubeciv1.StepRunning})
	})
	br := browsertest.New(b, "")
	url := f.url + "/runs/" + f.ns + "/" + wp.Name
	var paint, change float64
	phase := kubeciv1.StepSucceeded
	for b.Loop() {
		paint += firstPaint(b, br, url, `svg.dag`)
		// A step's state change, until the page shows it.
		start := time.Now()
		f.setStatus(wp.Name, func(wp *kubeciv1.Workplan) {
			stepPhases(wp, kubeciv1.WorkplanRunning, map[string]kubeciv1.StepPhase{"step-00": phase})
		})
		br.Wait("the change on the page", fmt.Sprintf(`document.querySelector('g.node[data-step="step-00"]').dataset.phase === %q`, phase))
		change += float64(time.Since(start).Microseconds()) / 1000
		if phase == kubeciv1.StepSucceeded {
			phase = kubeciv1.StepRunning
		} else {
			phase = kubeciv1.StepSucceeded
		}
	}
	b.ReportMetric(paint/float64(b.N), "first-paint-ms")
	b.ReportMetric(change/float64(b.N), "change-to-page-ms")
}

func BenchmarkWorkflowsPage1000(b *testing.B) {
	f := newFixtureWithoutOperator(b, AuthKubeconfig)
	ctx := context.Background()
	for i := range 1000 {
		wf := wideWorkflow(f.ns, 5)
		wf.Name = fmt.Sprintf("workflow-%04d", i)
		if err := f.env.Client.Create(ctx, wf); err != nil {
			b.Fatal(err)
		}
	}
	br := browsertest.New(b, filepath.Join(f.env.Root, "bin", "dashboard-screenshots"))
	var paint, served float64
	for b.Loop() {
		start := time.Now()
		f.get("/workflows?namespace=" + f.ns)
		served += float64(time.Since(start).Microseconds()) / 1000
		paint += firstPaint(b, br, f.url+"/workflows?namespace="+f.ns, `a[href="/workflows/`+f.ns+`/workflow-0999"]`)
	}
	b.ReportMetric(paint/float64(b.N), "first-paint-ms")
	b.ReportMetric(served/float64(b.N), "served-ms")
}

// BenchmarkRenderWorkflows1000 is the server's share of the Workflows page of
// 1,000 Workflows with ten runs each: deciding and rendering, without the API.
func BenchmarkRenderWorkflows1000(b *testing.B) {
	s, err := New(Options{Config: &rest.Config{Host: "http://127.0.0.1:1"}})
	if err != nil {
		b.Fatal(err)
	}
	var wfs []kubeciv1.Workflow
	var wps []kubeciv1.Workplan
	for i := range 1000 {
		wf := wideWorkflow("ci", 5)
		wf.Name = fmt.Sprintf("workflow-%04d", i)
		wfs = append(wfs, *wf)
		for j := range 10 {
			wps = append(wps, run(fmt.Sprintf("%s-%d", wf.Name, j), wf.Name, time.Duration(j)*time.Second, kubeciv1.WorkplanCompleted))
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/workflows?namespace=ci", nil)
	for b.Loop() {
		w := httptest.NewRecorder()
		s.render(w, req, http.StatusOK, "workflows.html", page{}, workflowsView("ci", wfs, wps, t0))
	}
}
