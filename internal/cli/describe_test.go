package cli

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/golden"
)

// eventsFixture records events about the failed run build-run-2 and its first
// task's pod, through both event APIs as the operator (events.k8s.io/v1) and
// a kubelet (core v1) do, and one about another object that must not show.
func eventsFixture(k *kube, wp *kubeciv1.Workplan, now time.Time) {
	k.t.Helper()
	micro := func(d time.Duration) metav1.MicroTime { return metav1.NewMicroTime(now.Add(d)) }
	regarding := corev1.ObjectReference{APIVersion: kubeciv1.GroupVersion.String(), Kind: "Workplan", Name: wp.Name, Namespace: k.ns, UID: wp.UID}
	pod := corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Name: wp.Name + "-task-0", Namespace: k.ns}
	objs := []client.Object{
		&eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "started"}, EventTime: micro(-40 * time.Minute),
			ReportingController: "kubeci-workplan", ReportingInstance: "kubeci-workplan-1", Action: "Run",
			Reason: "TaskStarted", Type: corev1.EventTypeNormal, Regarding: regarding, Note: "started task 0 in pod " + pod.Name},
		&eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "failed"}, EventTime: micro(-39*time.Minute - 51*time.Second),
			ReportingController: "kubeci-workplan", ReportingInstance: "kubeci-workplan-1", Action: "Run",
			Reason: "StepFailed", Type: corev1.EventTypeWarning, Regarding: regarding, Note: "step step-3 failed: exit code 1"},
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "pulled"}, InvolvedObject: pod, Reason: "Pulled", Type: corev1.EventTypeNormal,
			Message: `Container image "alpine" already present on machine`, Source: corev1.EventSource{Component: "kubelet"},
			FirstTimestamp: metav1.NewTime(now.Add(-40 * time.Minute)), LastTimestamp: metav1.NewTime(now.Add(-39*time.Minute - 56*time.Second)), Count: 3},
		&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "other"}, InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "unrelated", Namespace: k.ns},
			Reason: "Pulled", Type: corev1.EventTypeNormal, Message: "not about the run", Source: corev1.EventSource{Component: "kubelet"},
			FirstTimestamp: metav1.NewTime(now), LastTimestamp: metav1.NewTime(now), Count: 1},
	}
	for _, o := range objs {
		k.create(o)
	}
}

func TestDescribeWorkplan(t *testing.T) {
	k := newKube(t)
	_, wps, now := runsFixture(k)
	eventsFixture(k, wps[1], now)
	for _, c := range []struct {
		name, golden string
	}{
		{"build-run-2", "describe-workplan-failed.golden"},
		{"build-run-3", "describe-workplan-running.golden"},
		{"build-run-4", "describe-workplan-pending.golden"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := k.run("describe", "workplan", c.name)
			if code != 0 || errOut != "" {
				t.Fatalf("exit code %d: %s", code, errOut)
			}
			golden.Check(t, c.golden, []byte(k.mask(out)))
		})
	}
	_, errOut, code := k.run("describe", "wp", "nope")
	if want := "Error: workplan \"nope\" not found in namespace \"test-xxxxx\" (kubeci get workplans -n test-xxxxx lists them)\n"; code != 1 || k.mask(errOut) != want {
		t.Errorf("describe of a missing workplan: code %d, %q; want %q", code, k.mask(errOut), want)
	}
}

func TestDescribeWorkflow(t *testing.T) {
	k := newKube(t)
	wf, _, now := runsFixture(k)
	k.create(&eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "rerun"}, EventTime: metav1.NewMicroTime(now.Add(-40 * time.Minute)),
		ReportingController: "kubeci-workflow", ReportingInstance: "kubeci-workflow-1", Action: "Rerun",
		Reason: "Rerun", Type: corev1.EventTypeNormal, Note: "started Workplan build-run-2, a rerun of build-run-1 (ConfigMap my-config Updated)",
		Regarding: corev1.ObjectReference{APIVersion: kubeciv1.GroupVersion.String(), Kind: "Workflow", Name: wf.Name, Namespace: k.ns}})
	broken := k.sample("broken", false)
	broken.Spec.Steps[0].Dependency = []string{"step-5"}
	broken.Spec.ServiceAccountName = "builder"
	k.create(broken)
	setReady(k, broken, metav1.ConditionFalse, kubeciv1.ReasonInvalidSpec,
		"the workflow is invalid:\nspec.steps[0].dependency: Invalid value: \"step-5\": dependency cycle: step-1 -> step-5 -> step-4 -> step-2 -> step-1")
	ctx := context.Background()
	if err := k.env.Client.Get(ctx, client.ObjectKeyFromObject(broken), broken); err != nil {
		t.Fatal(err)
	}
	broken.Annotations = map[string]string{kubeciv1.AnnotationRunRequest: "20260102-150405-abcdef"}
	if err := k.env.Client.Update(ctx, broken); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, golden string
	}{
		{"build", "describe-workflow.golden"},
		{"broken", "describe-workflow-invalid.golden"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := k.run("describe", "wf", c.name)
			if code != 0 || errOut != "" {
				t.Fatalf("exit code %d: %s", code, errOut)
			}
			golden.Check(t, c.golden, []byte(k.mask(out)))
		})
	}
}
