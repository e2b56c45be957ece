package local

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "apple", "B": "", "LONG_NAME": "x"}
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"$(A)", "apple"},
		{"a $(A) and $(LONG_NAME).", "a apple and x."},
		{"empty:$(B):", "empty::"},
		{"unknown $(C) stays", "unknown $(C) stays"},
		{"escaped $$(A)", "escaped $(A)"},
		{"$$$$", "$$"},
		{"shell $A and ${A}", "shell $A and ${A}"},
		{"unclosed $(A", "unclosed $(A"},
		{"trailing $", "trailing $"},
		{"$()", "$()"},
	}
	for _, tc := range cases {
		if got := expand(tc.in, vars); got != tc.want {
			t.Errorf("expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A step gets plan.StepEnv, then its own env, with $(VAR) expanded as a pod's
// container does: in env values (from the variables before them), commands and
// args.
func TestNewStep(t *testing.T) {
	wf := &kubeciv1.Workflow{}
	wf.Name, wf.Namespace = "wf", "ns"
	wf.Spec.Steps = []kubeciv1.Step{step("first"), {
		Name: "second", Image: "busybox", Dependency: []string{"first"}, WorkingDir: "/kubeci/src",
		Commands: []string{"sh", "-c"},
		Args:     []string{"echo $(GREETING) $(KUBECI_STEP) $$(NOT)"},
		Env: []corev1.EnvVar{
			{Name: "GREETING", Value: "hi from $(KUBECI_WORKFLOW)"},
			{Name: "KUBECI_TASK", Value: "overridden"},
		},
	}}
	wp, err := plan.NewWorkplan(wf, kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}, "wf-run")
	if err != nil {
		t.Fatal(err)
	}
	got := newStep(wp, plan.Steps(wp.Spec.Tasks)[1], nil)
	want := Step{
		Name: "second", Task: 0, Parallel: true, Image: "busybox", WorkingDir: "/kubeci/src",
		Command: []string{"sh", "-c"},
		Args:    []string{"echo hi from wf second $(NOT)"},
		Env: []string{
			"KUBECI_WORKFLOW=wf", "KUBECI_WORKPLAN=wf-run", "KUBECI_NAMESPACE=ns", "KUBECI_TASK=0", "KUBECI_STEP=second",
			"KUBECI_WORKSPACE=/kubeci", "KUBECI_TRIGGER_EVENT=Manual", "KUBECI_TRIGGER_KIND=", "KUBECI_TRIGGER_NAMESPACE=",
			"KUBECI_TRIGGER_NAME=", "GREETING=hi from wf", "KUBECI_TASK=overridden",
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("step (-want +got):\n%s", diff)
	}
}

func TestUnsupported(t *testing.T) {
	wf := loadExample(t, "parallel.yaml")
	if errs := Unsupported(wf); len(errs) > 0 {
		t.Fatalf("plain env values are supported, got %v", errs)
	}
	wf.Spec.Steps[1].Env = []corev1.EnvVar{
		{Name: "PLAIN", Value: "ok"},
		{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "token"}}},
	}
	errs := Unsupported(wf)
	if len(errs) != 1 {
		t.Fatalf("want one error, got %v", errs)
	}
	got := plan.FormatError(errs[0])
	for _, want := range []string{"spec.steps[1].env[1].valueFrom: ", `step "right" takes TOKEN from key "token" of Secret "creds"`, "only a cluster can resolve", "give TOKEN a value"} {
		if !strings.Contains(got, want) {
			t.Errorf("message %q lacks %q", got, want)
		}
	}
}

func corev1EnvVar(name, value string) corev1.EnvVar { return corev1.EnvVar{Name: name, Value: value} }
