package cli

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/controller/workflow/workflowtest"
	"github.com/kubeci/kubeci/internal/golden"
)

// startOperator runs the real Workflow controller for the test's namespace
// until the test ends, so that run requests are really answered.
func (k *kube) startOperator() {
	k.t.Helper()
	workflowtest.Start(k.t, k.env, k.ns)
}

// workplanName is how the operator names runs: the Workflow's name and a hash.
var workplanName = regexp.MustCompile(`\b([a-z0-9-]+)-[0-9a-f]{10}\b`)

// requestID is how kubeci trigger writes run requests.
var requestID = regexp.MustCompile(`\b\d{8}-\d{6}-[a-z0-9]{6}\b`)

// maskRun hides the generated parts of a run's name and request id.
func (k *kube) maskRun(s string) string {
	s = requestID.ReplaceAllString(k.mask(s), "YYYYMMDD-HHMMSS-xxxxxx")
	return workplanName.ReplaceAllString(s, "${1}-xxxxxxxxxx")
}

// runOf returns the Workplan named by trigger's output line.
func (k *kube) runOf(out string) *kubeciv1.Workplan {
	k.t.Helper()
	wp := &kubeciv1.Workplan{}
	key := client.ObjectKey{Namespace: k.ns, Name: strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])}
	if err := k.env.Client.Get(context.Background(), key, wp); err != nil {
		k.t.Fatalf("the Workplan trigger printed: %v", err)
	}
	return wp
}

func TestTrigger(t *testing.T) {
	k := newKube(t)
	k.startOperator()
	k.create(k.sample("build", false))

	out, errOut, code := k.run("trigger", "build")
	if code != 0 || errOut != "" {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	golden.Check(t, "trigger.golden", []byte(k.maskRun(out)))
	wp := k.runOf(out)
	wf := &kubeciv1.Workflow{}
	if err := k.env.Client.Get(context.Background(), client.ObjectKey{Namespace: k.ns, Name: "build"}, wf); err != nil {
		t.Fatal(err)
	}
	req := wf.Annotations[kubeciv1.AnnotationRunRequest]
	if wp.Spec.Trigger.Event != kubeciv1.EventManual || wp.Labels[kubeciv1.LabelRunRequest] != req || wf.Status.LastHandledRunRequest != req {
		t.Errorf("want a Manual run answering request %q (handled: %q), got trigger %v, labels %v",
			req, wf.Status.LastHandledRunRequest, wp.Spec.Trigger, wp.Labels)
	}

	// Each trigger is a new run.
	out2, _, code := k.run("trigger", "build")
	if code != 0 || out2 == out {
		t.Errorf("a second trigger: code %d, %q (first %q)", code, out2, out)
	}
}

func TestTriggerWait(t *testing.T) {
	k := newKube(t)
	k.startOperator()
	k.create(k.sample("build", false))
	k.setClock(time.Now())

	for _, c := range []struct {
		phase  kubeciv1.WorkplanPhase
		code   int
		golden string
	}{
		{kubeciv1.WorkplanCompleted, 0, "trigger-wait-completed.golden"},
		{kubeciv1.WorkplanFailed, 1, "trigger-wait-failed.golden"},
	} {
		t.Run(string(c.phase), func(t *testing.T) {
			r := k.start("trigger", "build", "--wait")
			r.waitLines(1)
			// Play the Workplan controller: the run goes on, then ends.
			wp := k.runOf(r.out.String())
			start := time.Now()
			k.setStatus(wp, func(wp *kubeciv1.Workplan) { runningSince(wp, start) })
			k.setStatus(wp, func(wp *kubeciv1.Workplan) {
				wp.Status.Phase, wp.Status.CompletionTime = c.phase, at(start, 42*time.Second)
				if c.phase == kubeciv1.WorkplanFailed {
					wp.Status.Reason = "step step-4 failed: exit code 2"
				}
			})
			if code := r.wait(); code != c.code {
				t.Errorf("exit code %d, want %d: %s", code, c.code, r.errOut)
			}
			golden.Check(t, c.golden, []byte(k.maskRun(r.out.String())))
		})
	}
}

func TestTriggerRejected(t *testing.T) {
	k := newKube(t)
	k.startOperator()
	wf := k.sample("broken", false)
	wf.Spec.Steps[0].Dependency = []string{"step-5"} // a cycle: the API server accepts it, the operator does not
	k.create(wf)

	out, errOut, code := k.run("trigger", "broken")
	if code != 1 || out != "" {
		t.Errorf("exit code %d, output %q; want 1 and nothing", code, out)
	}
	golden.Check(t, "trigger-rejected.golden", []byte(k.maskRun(errOut)))
	var runs kubeciv1.WorkplanList
	if err := k.env.Client.List(context.Background(), &runs, client.InNamespace(k.ns)); err != nil || len(runs.Items) != 0 {
		t.Errorf("a rejected request must not start a run: %v, %d runs", err, len(runs.Items))
	}
}

func TestTriggerNoOperator(t *testing.T) {
	k := newKube(t)
	k.create(k.sample("build", false))
	out, errOut, code := k.run("trigger", "build", "--timeout", "1s")
	if code != 2 || out != "" {
		t.Errorf("exit code %d, output %q; want 2 and nothing", code, out)
	}
	golden.Check(t, "trigger-no-operator.golden", []byte(k.maskRun(errOut)))

	// A second trigger finds the first request unanswered.
	_, errOut, code = k.run("trigger", "build", "--timeout", "1s")
	if code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	golden.Check(t, "trigger-no-operator-pending.golden", []byte(k.maskRun(errOut)))

	_, errOut, code = k.run("trigger", "nope")
	if want := "Error: workflow \"nope\" not found in namespace \"test-xxxxx\" (kubeci get workflows -n test-xxxxx lists them)\n"; code != 1 || k.mask(errOut) != want {
		t.Errorf("trigger of a missing workflow: code %d, %q; want %q", code, k.mask(errOut), want)
	}
}

// A request someone else made that the operator has not answered yet is not
// replaced: trigger waits for its answer, then makes its own.
func TestTriggerKeepsPendingRequest(t *testing.T) {
	k := newKube(t)
	wf := k.sample("build", false)
	wf.Annotations = map[string]string{kubeciv1.AnnotationRunRequest: "someone-else"}
	k.create(wf)

	r := k.start("trigger", "build")
	r.waitsAfter("the pending request", func(o client.Object) bool {
		wf, ok := o.(*kubeciv1.Workflow)
		return ok && wf.Annotations[kubeciv1.AnnotationRunRequest] == "someone-else"
	})
	got := &kubeciv1.Workflow{}
	if err := k.env.Client.Get(context.Background(), client.ObjectKeyFromObject(wf), got); err != nil {
		t.Fatal(err)
	}
	if req := got.Annotations[kubeciv1.AnnotationRunRequest]; req != "someone-else" {
		t.Fatalf("trigger replaced a pending request with %q", req)
	}
	k.startOperator()
	if code := r.wait(); code != 0 {
		t.Fatalf("exit code %d: %s", code, r.errOut)
	}
	mine := k.runOf(r.out.String())
	var runs kubeciv1.WorkplanList
	if err := k.env.Client.List(context.Background(), &runs, client.InNamespace(k.ns)); err != nil {
		t.Fatal(err)
	}
	requests := map[string]bool{}
	for _, wp := range runs.Items {
		requests[wp.Labels[kubeciv1.LabelRunRequest]] = true
	}
	if len(runs.Items) != 2 || !requests["someone-else"] || !requests[mine.Labels[kubeciv1.LabelRunRequest]] {
		t.Errorf("want one run for each request, got %d: %v", len(runs.Items), requests)
	}
}
