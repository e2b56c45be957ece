package workplan_test

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/controller/workplan"
	"github.com/kubeci/kubeci/internal/names"
)

// Pods the API server refuses.

// Pod Security admission at "baseline" forbids hostPath volumes: the run
// fails PodRejected, quoting the refusal, and has nothing to clean.
func TestPodRefusedByPodSecurityFailsTheRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	ns := &corev1.Namespace{}
	if err := h.c.Get(h.ctx(), client.ObjectKey{Name: h.ns}, ns); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(ns.DeepCopy())
	ns.Labels["pod-security.kubernetes.io/enforce"] = "baseline"
	if err := h.c.Patch(h.ctx(), ns, patch); err != nil {
		t.Fatal(err)
	}

	run := h.createRun(h.createWorkflow(), "refused").Name
	wp := h.waitPhase(run, kubeciv1.WorkplanFailed)
	if c := findCondition(wp, kubeciv1.ConditionSucceeded); c == nil || c.Reason != kubeciv1.ReasonPodRejected {
		t.Errorf("Succeeded condition = %+v, want reason PodRejected", c)
	}
	for _, want := range []string{"pod " + names.TaskPod(run, 0) + " of task 0 was refused", `violates PodSecurity "baseline:latest"`, "hostPath volumes"} {
		if !strings.Contains(wp.Status.Reason, want) {
			t.Errorf("reason %q does not say %q", wp.Status.Reason, want)
		}
	}
	wp = h.waitCleaned(run, kubeciv1.ReasonNothingToClean)
	if wp.Status.PodName != "" {
		t.Errorf("podName = %q for a pod that was never created", wp.Status.PodName)
	}
	if pods := h.pods(); len(pods) != 0 {
		t.Errorf("pods exist: %v", pods)
	}
	h.waitEvent(run, workplan.EventFailed, "PodRejected")
}

// A used-up ResourceQuota is not the run's fault: the pod is retried, and
// created once the quota allows it.
func TestPodOverQuotaIsRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t, workplan.Options{})
	quota := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: "pods"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")}},
	}
	if err := h.c.Create(h.ctx(), quota); err != nil {
		t.Fatal(err)
	}
	// There is no quota controller in envtest: report the usage it would.
	quota.Status = corev1.ResourceQuotaStatus{Hard: quota.Spec.Hard, Used: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("0")}}
	if err := h.c.Status().Update(h.ctx(), quota); err != nil {
		t.Fatal(err)
	}

	run := h.createRun(h.createWorkflow(), "over-quota").Name
	wp := h.waitRun(run, "waiting for quota", func(wp *kubeciv1.Workplan) bool { return strings.Contains(wp.Status.Reason, "exceeded quota") })
	if wp.Status.Phase != kubeciv1.WorkplanPending || !strings.Contains(wp.Status.Reason, "waits for quota") {
		t.Errorf("phase %s, reason %q; want Pending, waiting for quota", wp.Status.Phase, wp.Status.Reason)
	}
	if slices.Contains(h.pods(), names.TaskPod(run, 0)) {
		t.Fatal("the pod exists despite the quota")
	}
	if err := h.c.Delete(h.ctx(), quota); err != nil {
		t.Fatal(err)
	}
	h.poke(run) // rather than wait for the next retry, 15s away
	h.waitPod(names.TaskPod(run, 0))
	h.waitRun(run, "pod recorded", func(wp *kubeciv1.Workplan) bool { return wp.Status.PodName == names.TaskPod(run, 0) })
}
