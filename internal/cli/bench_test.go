package cli

import (
	"fmt"
	"io"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// BenchmarkWorkplanTable measures `kubeci get workplans` rendering 1,000 runs.
func BenchmarkWorkplanTable(b *testing.B) {
	wps := make([]kubeciv1.Workplan, 1000)
	for i := range wps {
		wps[i] = kubeciv1.Workplan{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("my-workflow-%010x", i), Namespace: "ci", CreationTimestamp: metav1.Now()},
			Spec:       kubeciv1.WorkplanSpec{Workflow: "my-workflow", Tasks: make([]kubeciv1.Task, 2), Trigger: manual},
			Status:     kubeciv1.WorkplanStatus{Phase: kubeciv1.WorkplanRunning, StartTime: &metav1.Time{}},
		}
	}
	for b.Loop() {
		p, err := newObjectPrinter(io.Discard, "wide", true, clock.RealClock{})
		if err != nil {
			b.Fatal(err)
		}
		sortWorkplans(wps)
		if err := p.workplans(wps, false); err != nil {
			b.Fatal(err)
		}
	}
}
