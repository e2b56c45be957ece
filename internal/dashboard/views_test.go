package dashboard

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/config/samples"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/steplog"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(d time.Duration) *metav1.Time { t := metav1.NewTime(t0.Add(d)); return &t }

func run(name, workflow string, created time.Duration, phase kubeciv1.WorkplanPhase) kubeciv1.Workplan {
	return kubeciv1.Workplan{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ci", CreationTimestamp: *at(created)},
		Spec:   kubeciv1.WorkplanSpec{Workflow: workflow, Trigger: kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}},
		Status: kubeciv1.WorkplanStatus{Phase: phase}}
}

func TestWorkflowRows(t *testing.T) {
	ready := samples.Workflow()
	ready.Namespace = "ci"
	ready.Status.Conditions = []metav1.Condition{{Type: kubeciv1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Watching", Message: "watching configmaps"}}
	manual := ready.DeepCopy()
	manual.Name, manual.Spec.Triggers, manual.Status.Conditions = "by-hand", nil, nil
	cancelling := run("c", "my-workflow", 2*time.Second, kubeciv1.WorkplanRunning)
	cancelling.Spec.Cancelled = true
	wps := []kubeciv1.Workplan{
		run("a", "my-workflow", 0, kubeciv1.WorkplanCompleted),
		run("b", "my-workflow", time.Second, kubeciv1.WorkplanFailed),
		cancelling,
		run("x", "other", 0, kubeciv1.WorkplanFailed),
	}
	got := workflowRows([]kubeciv1.Workflow{*ready, *manual}, wps, t0.Add(time.Minute))
	want := []workflowRow{
		{Namespace: "ci", Name: "by-hand", Ready: "Unknown"},
		{Namespace: "ci", Name: "my-workflow", Ready: "True", ReadyReason: "Watching", Message: "watching configmaps",
			Triggers: []string{"ConfigMap my-config"}, LastRun: "c", LastPhase: "Cancelling", LastAge: "58s",
			Counts: []phaseCount{{"Cancelling", 1}, {"Completed", 1}, {"Failed", 1}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEnvTextNeverShowsReferencedValues(t *testing.T) {
	cases := []struct {
		env  corev1.EnvVar
		want string
	}{
		{corev1.EnvVar{Name: "A", Value: "plain"}, "A=plain"},
		{corev1.EnvVar{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "token"}}}, "TOKEN from Secret creds, key token"},
		{corev1.EnvVar{Name: "C", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "k"}}}, "C from ConfigMap cfg, key k"},
		{corev1.EnvVar{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}}, "NODE from field spec.nodeName"},
	}
	for _, tc := range cases {
		if diff := cmp.Diff(tc.want, envText(tc.env)); diff != "" {
			t.Error(diff)
		}
	}
}

// Every field spec.trigger records is shown, those people look for first,
// nested maps (such as the watched field values) flattened.
func TestTriggerFields(t *testing.T) {
	ev := kubeciv1.TriggerEvent{Event: kubeciv1.EventUpdated, APIVersion: "v1", Kind: "ConfigMap", Namespace: "ci", Name: "src",
		UID: "u-1", ResourceVersion: "7", ResourceGeneration: "h:abc"}
	want := []field{{"event", "Updated"}, {"kind", "ConfigMap"}, {"namespace", "ci"}, {"name", "src"}, {"apiVersion", "v1"},
		{"resourceGeneration", "h:abc"}, {"resourceVersion", "7"}, {"uid", "u-1"}}
	if diff := cmp.Diff(want, triggerFields(ev)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var nested []field
	flatten("", map[string]any{"fields": map[string]any{"revision": "main@sha1:abc"}, "n": 3.0}, &nested)
	if diff := cmp.Diff([]field{{"fields.revision", "main@sha1:abc"}, {"n", "3"}}, nested); diff != "" {
		t.Errorf("nested (-want +got):\n%s", diff)
	}
}

func TestRunView(t *testing.T) {
	wf := samples.Workflow()
	wp, err := plan.NewWorkplan(wf, kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	wp.Status = kubeciv1.WorkplanStatus{Phase: kubeciv1.WorkplanFailed, StartTime: at(0), CompletionTime: at(9 * time.Second),
		Steps: []kubeciv1.StepStatus{
			{Name: "step-1", Phase: kubeciv1.StepSucceeded, ExitCode: ptrTo(int32(0)), StartTime: at(0), FinishTime: at(2 * time.Second)},
			{Name: "step-2", Phase: kubeciv1.StepFailed, ExitCode: ptrTo(int32(3)), StartTime: at(2 * time.Second), FinishTime: at(5 * time.Second), Message: "boom"},
		}}
	v := newRunView(wp, t0.Add(time.Minute))
	var got []stepRow
	got = append(got, v.Steps...)
	want := []stepRow{
		{Name: "step-1", Kind: "serial", Phase: "Succeeded", Exit: "0", Duration: "2s"},
		{Name: "step-2", Kind: "parallel", Phase: "Failed", Exit: "3", Duration: "3s", Message: "boom"},
		{Name: "step-3", Kind: "parallel", Phase: "Skipped"},
		{Name: "step-4", Kind: "serial", Phase: "Skipped", Task: 1},
		{Name: "step-5", Kind: "parallel", Phase: "Skipped", Task: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if v.Cancellable || v.Duration != "9s" || v.States["step-2"].Detail != "exit 3 · 3s" {
		t.Errorf("a failed run: cancellable %v, duration %q, detail %q", v.Cancellable, v.Duration, v.States["step-2"].Detail)
	}
}

func ptrTo[T any](v T) *T { return &v }

// A log line's HTML keeps its colours and nothing else: markup is escaped,
// links, titles and images a terminal would understand are dropped.
func TestLogLineHTMLEscapes(t *testing.T) {
	p := steplog.NewPrefixer([]string{"build", "<script>"}, false)
	index := map[string]int{"build": 0, "<script>": 1}
	cases := []struct{ step, line, want string }{
		{"build", "plain", `<div class="line"><span class="prefix c0">build    |</span> <span class="text">plain</span></div>`},
		{"build", "\x1b[31mred\x1b[0m", `<span class="term-fg31">red</span>`},
		{"build", `<script>alert(1)</script><img src=x onerror=alert(2)>`, `&lt;script&gt;alert(1)&lt;&#47;script&gt;&lt;img src=x onerror=alert(2)&gt;`},
		{"<script>", "x", `<span class="prefix c1">&lt;script&gt; |</span>`},
		{"build", "\x1b]1339;url=javascript:alert(1);content=click\x07after", `<span class="text">after</span>`},
		{"build", "\x1b]1337;File=name=eA==;inline=1:PHN2Zz4=\x07img", `<span class="text">img</span>`},
	}
	for _, tc := range cases {
		got := logLineHTML(p, index, tc.step, tc.line)
		if !strings.Contains(got, tc.want) {
			t.Errorf("%q: got %s, want it to contain %s", tc.line, got, tc.want)
		}
		for _, bad := range []string{"<script", "<img", "javascript:"} {
			if strings.Contains(got, bad) {
				t.Errorf("%q: %s holds %s", tc.line, got, bad)
			}
		}
	}
}
