package main

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

func TestArgoWorkflow(t *testing.T) {
	steps := []kubeciv1.Step{
		{Name: "step-1", Image: "alpine", Commands: []string{"sh"}, Args: []string{"-c", "true"}},
		{Name: "step-2", Image: "alpine", Dependency: []string{"step-1"}},
	}
	want := map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Workflow",
		"metadata":   map[string]any{"name": "wf", "namespace": "ns"},
		"spec": map[string]any{
			"entrypoint": "main",
			"templates": []any{
				map[string]any{"name": "main", "dag": map[string]any{"tasks": []any{
					map[string]any{"name": "step-1", "template": "step-1"},
					map[string]any{"name": "step-2", "template": "step-2", "dependencies": []any{"step-1"}},
				}}},
				map[string]any{"name": "step-1", "container": map[string]any{"image": "alpine", "command": []any{"sh"}, "args": []any{"-c", "true"}}},
				map[string]any{"name": "step-2", "container": map[string]any{"image": "alpine"}},
			},
		},
	}
	if diff := cmp.Diff(want, argoWorkflow("ns", "wf", steps).Object); diff != "" {
		t.Errorf("argoWorkflow (-want +got):\n%s", diff)
	}
}

func TestArgoNode(t *testing.T) {
	wf := metav1.OwnerReference{APIVersion: "argoproj.io/v1alpha1", Kind: "Workflow", Name: "wf", UID: "u1", Controller: ptr.To(true)}
	cases := []struct {
		name    string
		pod     corev1.Pod
		wantID  string
		wantErr bool
	}{
		{name: "annotation", wantID: "wf-123", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			Annotations: map[string]string{argoAnnotationNodeID: "wf-123"}, OwnerReferences: []metav1.OwnerReference{wf}}}},
		{name: "environment", wantID: "wf-456", pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{wf}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "wait", Env: []corev1.EnvVar{{Name: argoEnvNodeID, Value: "wf-456"}}}}}}},
		{name: "no owner", wantErr: true, pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			Annotations: map[string]string{argoAnnotationNodeID: "wf-123"}}}},
		{name: "no node ID", wantErr: true, pod: corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{wf}}}},
	}
	for _, tc := range cases {
		id, owner, err := argoNode(&tc.pod)
		if (err != nil) != tc.wantErr || id != tc.wantID || (err == nil && owner.Name != "wf") {
			t.Errorf("%s: argoNode = %q, %q, %v; want %q (error %v)", tc.name, id, owner.Name, err, tc.wantID, tc.wantErr)
		}
	}
}

func TestTallyCompare(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	runs := []runTimes{
		{Submitted: at(0), FirstPod: at(100), Finished: at(1000), Pods: 5},
		{Submitted: at(500), FirstPod: at(800), Finished: at(2500), Pods: 5},
		{Submitted: at(1000), FirstPod: at(1200), Finished: at(4000), Pods: 5},
		{Submitted: at(2000), Finished: at(3000), Failed: true},
		{Submitted: at(50000), Finished: at(61000)}, // after the window
		{Submitted: at(55000), FirstPod: at(56000)}, // unfinished
	}
	got := tallyCompare(runs, t0, at(60000))
	want := compareRun{completed: 3, failed: 1, perMinute: 3, podsPerRun: 5,
		firstPodMedian: 200, firstPodP99: 300, doneMedian: 2000, doneP99: 3000}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(compareRun{})); diff != "" {
		t.Errorf("tallyCompare (-want +got):\n%s", diff)
	}
	empty := tallyCompare(nil, t0, at(60000))
	if empty.perMinute != 0 || !math.IsNaN(empty.doneMedian) {
		t.Errorf("tallyCompare(nil) = %+v, want nothing completed and NaN times", empty)
	}
}

func TestRunTracker(t *testing.T) {
	ctx := t.Context()
	tr := newRunTracker(1)
	t0 := time.Now()
	if !tr.acquire(ctx, t0.Add(time.Second)) {
		t.Fatal("the first slot must be free")
	}
	if tr.acquire(ctx, time.Now().Add(10*time.Millisecond)) {
		t.Fatal("a second slot must not be free while the first run is in flight")
	}
	tr.submit("cm-1", t0)
	tr.pod("run-1", t0.Add(time.Second))
	tr.pod("run-1", t0.Add(2*time.Second))
	tr.finish("run-1", "cm-1", t0.Add(3*time.Second), false)
	tr.finish("run-1", "cm-1", t0.Add(4*time.Second), false) // seen again: ignored
	want := []runTimes{{Submitted: t0, FirstPod: t0.Add(time.Second), Finished: t0.Add(3 * time.Second), Pods: 2}}
	if diff := cmp.Diff(want, tr.runs()); diff != "" {
		t.Errorf("runs (-want +got):\n%s", diff)
	}
	if !tr.acquire(ctx, time.Now().Add(time.Second)) {
		t.Error("the slot must be free once its run finished")
	}
	tr.finish("run-1", "cm-1", t0, false) // frees nothing: the slot's run already finished
	done, cancel := context.WithCancel(ctx)
	cancel()
	if tr.acquire(done, time.Now().Add(time.Second)) {
		t.Error("acquire must give up when its context ends")
	}
}

func TestCompareTables(t *testing.T) {
	one := func(v float64) Summary { return Summary{Median: v, Min: v, Max: v, Runs: 1} }
	rs := []CompareResult{
		{Engine: engineKubeCI, Workload: "design-doc", PerMinute: one(600), APIServerCPUPerRun: one(0.1)},
		{Engine: engineArgo, Workload: "design-doc", PerMinute: one(200), APIServerCPUPerRun: one(0.4)},
	}
	ts := compareTables(rs)
	if len(ts) != 1 {
		t.Fatalf("got %d tables, want 1", len(ts))
	}
	rows := map[string][]string{}
	for _, r := range ts[0].rows {
		rows[r[0]] = r[1:]
	}
	for name, want := range map[string][]string{
		"runs completed/min":             {"600.0", "200.0", "3.00x"},
		"API server CPU ms per run":      {"100.0", "400.0", "0.25x"},
		"runs per API server CPU second": {"10.0", "2.5", "4.00x"},
		"controller peak RSS MiB":        {"-", "-", "-"},
	} {
		if diff := cmp.Diff(want, rows[name]); diff != "" {
			t.Errorf("row %q (-want +got):\n%s", name, diff)
		}
	}
}
