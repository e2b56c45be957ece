package main

// Tests of the harness's pure parts. The benchmarks themselves run with
// `make bench`, not `go test`.

import (
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

func TestSummarize(t *testing.T) {
	cases := []struct {
		in   []float64
		want Summary
	}{
		{nil, Summary{}},
		{[]float64{3}, Summary{Median: 3, Min: 3, Max: 3, Runs: 1}},
		{[]float64{5, 1, 3}, Summary{Median: 3, Min: 1, Max: 5, Runs: 3}},
		{[]float64{4, 1, 3, 2}, Summary{Median: 2.5, Min: 1, Max: 4, Runs: 4}},
	}
	for _, tc := range cases {
		if got := summarize(tc.in); got != tc.want {
			t.Errorf("summarize(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	xs := make([]float64, 100)
	for i := range xs {
		xs[i] = float64(100 - i) // 100 .. 1, unsorted on purpose
	}
	for p, want := range map[float64]float64{50: 50, 99: 99, 100: 100, 1: 1} {
		if got := percentile(xs, p); got != want {
			t.Errorf("percentile(1..100, %v) = %v, want %v", p, got, want)
		}
	}
	if got := percentile([]float64{7}, 99); got != 7 {
		t.Errorf("percentile of one value = %v, want 7", got)
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("percentile of nothing must be NaN")
	}
}

func TestParsePlannerOutput(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/kubeci/kubeci/internal/plan
BenchmarkPlan/steps=100-2         	   21483	     55210 ns/op	       194.0 ns/(step+edge)	   92776 B/op	     945 allocs/op
BenchmarkPlan/steps=100-2         	   21000	     57210 ns/op	       201.0 ns/(step+edge)	   92776 B/op	     945 allocs/op
BenchmarkPlan/steps=10000-2       	     100	   9740000 ns/op	       328.0 ns/(step+edge)	 8973531 B/op	  112106 allocs/op
PASS
ok  	github.com/kubeci/kubeci/internal/plan	12.1s
`
	got, err := parsePlannerOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []PlannerResult{
		{Steps: 100, NsPerOp: Summary{56210, 55210, 57210, 2}, NsPerStepEdge: Summary{197.5, 194, 201, 2},
			BytesPerOp: Summary{92776, 92776, 92776, 2}, AllocsPerOp: Summary{945, 945, 945, 2}},
		{Steps: 10000, NsPerOp: Summary{9740000, 9740000, 9740000, 1}, NsPerStepEdge: Summary{328, 328, 328, 1},
			BytesPerOp: Summary{8973531, 8973531, 8973531, 1}, AllocsPerOp: Summary{112106, 112106, 112106, 1}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := parsePlannerOutput("PASS\n"); err == nil {
		t.Error("output without results must be an error")
	}
}

// A simulated pod goes through one status per container state change and
// ends Succeeded with every container exited 0.
func TestPodStatusStages(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "step-1"}, {Name: "step-2"}},
		Containers:     []corev1.Container{{Name: "step-3"}, {Name: "step-4"}},
	}}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	phases := simulateStages(t, pod, t0, func(int, *corev1.PodStatus) {})
	want := []corev1.PodPhase{corev1.PodPending, corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded}
	if diff := cmp.Diff(want, phases); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	for _, cs := range append(pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses...) {
		term := cs.State.Terminated
		if term == nil || term.ExitCode != 0 || term.FinishedAt.Before(&term.StartedAt) {
			t.Errorf("container %s: want terminated with exit code 0, got %+v", cs.Name, cs.State)
		}
	}
	// step-2 ran from the first write after step-1 ended until the next.
	if got := pod.Status.InitContainerStatuses[1].State.Terminated; !got.StartedAt.Time.Equal(t0.Add(time.Second)) || !got.FinishedAt.Time.Equal(t0.Add(2*time.Second)) {
		t.Errorf("step-2 ran %v to %v, want 1s to 2s", got.StartedAt, got.FinishedAt)
	}
}

// A native sidecar (Kube CI's workspace cleaner) adds no status write: it
// runs from the first write, with the first init container, and is written
// terminated with exit code 0 in the write that ends the pod.
func TestPodStatusStagesWithSidecar(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "cleaner", RestartPolicy: &always}, {Name: "step-4"}},
		Containers:     []corev1.Container{{Name: "step-5"}},
	}, Status: corev1.PodStatus{QOSClass: corev1.PodQOSBurstable}} // the sidecar has resources
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var cleaner []string
	phases := simulateStages(t, pod, t0, func(i int, next *corev1.PodStatus) {
		if next.QOSClass != corev1.PodQOSBurstable {
			// The API server refuses a change of this immutable field.
			t.Fatalf("write %d changes status.qosClass to %q", i, next.QOSClass)
		}
		st := next.InitContainerStatuses[0].State
		switch {
		case st.Terminated != nil:
			cleaner = append(cleaner, fmt.Sprintf("exited %d", st.Terminated.ExitCode))
		case st.Running != nil:
			cleaner = append(cleaner, "running")
		default:
			cleaner = append(cleaner, "waiting")
		}
	})
	// As many writes as without the sidecar: step-4 runs, step-5 runs, ended.
	if diff := cmp.Diff([]corev1.PodPhase{corev1.PodPending, corev1.PodRunning, corev1.PodSucceeded}, phases); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"running", "running", "exited 0"}, cleaner); diff != "" {
		t.Errorf("the sidecar's states, write by write (-want +got):\n%s", diff)
	}
	if got := pod.Status.InitContainerStatuses[1].State.Terminated; got == nil || got.ExitCode != 0 {
		t.Errorf("step-4: want exited 0, got %+v", pod.Status.InitContainerStatuses[1].State)
	}
}

// simulateStages writes pod's statuses as the simulator would, one second
// apart from t0, checking that each write moves it one stage on, and calls
// each with every new status before it is applied; it returns the phases
// written.
func simulateStages(t *testing.T, pod *corev1.Pod, t0 time.Time, each func(i int, next *corev1.PodStatus)) []corev1.PodPhase {
	t.Helper()
	var phases []corev1.PodPhase
	for i := 0; ; i++ {
		stage := podStage(pod)
		if stage != i {
			t.Fatalf("after %d writes the pod shows stage %d", i, stage)
		}
		next := podStatusAt(pod, stage, t0.Add(time.Duration(i)*time.Second))
		if next == nil {
			return phases
		}
		each(i, next)
		pod.Status = *next
		phases = append(phases, next.Phase)
		if i > 10 {
			t.Fatal("the pod never finishes")
		}
	}
}

func TestFitsNode(t *testing.T) {
	pinned := func(op corev1.NodeSelectorOperator, node string) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: op, Values: []string{node}}},
			}}},
		}}}}
	}
	cases := []struct {
		name string
		pod  *corev1.Pod
		want bool
	}{
		{"no affinity", &corev1.Pod{}, true},
		{"pinned to this node", pinned(corev1.NodeSelectorOpIn, "n"), true},
		{"pinned elsewhere", pinned(corev1.NodeSelectorOpIn, "other"), false},
		{"kept away from this node", pinned(corev1.NodeSelectorOpNotIn, "n"), false},
	}
	for _, tc := range cases {
		if got := fitsNode(tc.pod, "n"); got != tc.want {
			t.Errorf("%s: fitsNode = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestLatencies(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	updates := []update{
		{cm: "a", rv: 10, at: at(0)},
		{cm: "b", rv: 11, at: at(0)},
		{cm: "a", rv: 12, at: at(5)},  // decided with the next one
		{cm: "a", rv: 13, at: at(10)}, // answered by the run of rv 13
		{cm: "c", rv: 14, at: at(10)}, // never answered
	}
	runs := []run{
		{Workflow: "wf", Trigger: "a", TriggerRV: 10, Seen: at(20)},
		{Workflow: "wf", Trigger: "b", TriggerRV: 11, Seen: at(40)},
		{Workflow: "wf", Trigger: "a", TriggerRV: 13, Seen: at(30)},
		{Workflow: "other", Trigger: "c", TriggerRV: 14, Seen: at(11)},
	}
	got := latencies(updates, runs, []string{"wf"})
	// Latencies 20, 40, 25, 20 ms: the median (nearest rank) is 20.
	if got.updates != 5 || got.missing != 1 || got.median != 20 || got.p99 != 40 || got.coalesced != 0.25 {
		t.Errorf("latencies = %+v; want 5 updates, 1 missing, median 20, p99 40, 1 of 4 coalesced", got)
	}
	if !answered(updates[:4], runs) || answered(updates, runs[:3]) {
		t.Error("answered must check the last update of each ConfigMap")
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-latency", "10/1/100, 200/5/1000", "-cost", "10x10,1000x10000", "-groups", "cost"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]latencyCase{{Rate: 10, Workflows: 1, ConfigMaps: 100}, {Rate: 200, Workflows: 5, ConfigMaps: 1000}}, o.latencyCases); diff != "" {
		t.Errorf("latency cases (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]costCell{{10, 10}, {1000, 10000}}, o.costCells); diff != "" {
		t.Errorf("cost cells (-want +got):\n%s", diff)
	}
	if !o.groups["cost"] || o.groups["latency"] {
		t.Errorf("groups = %v, want only cost", o.groups)
	}
	for _, bad := range [][]string{{"-cost", "10by10"}, {"-latency", "10/0/5"}, {"-groups", "speed"}, {"-reps", "0"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%v) must fail", bad)
		}
	}
}

func TestUpdateDoc(t *testing.T) {
	path := t.TempDir() + "/doc.md"
	write := func(s string) {
		if err := writeFile(path, s); err != nil {
			t.Fatal(err)
		}
	}
	write("# Title\n\n" + docBegin + "\nold\n" + docEnd + "\n\nafter\n")
	if err := updateDoc(path, "new table"); err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, path), "# Title\n\n"+docBegin+"\nnew table\n"+docEnd+"\n\nafter\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	write("no markers")
	if err := updateDoc(path, "x"); err == nil {
		t.Error("a document without markers must be an error")
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestTallyRuns(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := t0.Add(time.Minute)
	runs := []run{
		{Seen: t0, Finished: t0.Add(1 * time.Second), Phase: kubeciv1.WorkplanCompleted},
		{Seen: t0, Finished: t0.Add(3 * time.Second), Phase: kubeciv1.WorkplanCompleted},
		{Seen: t0, Finished: t0.Add(5 * time.Second), Phase: kubeciv1.WorkplanCompleted},
		{Seen: t0, Finished: t0.Add(2 * time.Second), Phase: kubeciv1.WorkplanFailed},
		{Seen: t0, Finished: end.Add(time.Second), Phase: kubeciv1.WorkplanCompleted}, // after the window
		{Seen: t0}, // still running
	}
	res, completed := tallyRuns(runs, end, 30*time.Second)
	if completed != 3 || res.failed != 1 || res.perMinute != 6 || res.runSeconds != 3 {
		t.Errorf("want 3 completed, 1 failed, 6/min, median 3s; got %d, %+v", completed, res)
	}
}

func TestConfigMapPool(t *testing.T) {
	p := newConfigMapPool(4, 2)
	a, b := p.take(), p.take()
	if a != cmName(0) || b != cmName(1) {
		t.Fatalf("want %s and %s first, got %q and %q", cmName(0), cmName(1), a, b)
	}
	if c := p.take(); c != "" {
		t.Fatalf("the limit is 2 busy, but take gave %q", c)
	}
	p.release(a)
	if c := p.take(); c != cmName(2) {
		t.Errorf("want round robin to go on with %s, got %q", cmName(2), c)
	}
	p.release(b)
	p.release(cmName(2))
	if !p.idle() {
		t.Error("every ConfigMap was released but the pool is not idle")
	}
	p.waitFree(time.Now().Add(time.Minute)) // a release is waiting: returns at once
}
