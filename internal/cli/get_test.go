package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/golden"
	"github.com/kubeci/kubeci/internal/runrequest"
)

var manual = kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}

// runsFixture creates the Workflow "build" (the design doc's, Ready) and four
// runs of it, in creation order: build-run-1 Completed by hand, build-run-2
// Failed after a ConfigMap update, build-run-3 Running its second task and
// being cancelled, build-run-4 not started. It fixes the clock one hour after
// their creation and returns that time.
func runsFixture(k *kube) (*kubeciv1.Workflow, []*kubeciv1.Workplan, time.Time) {
	k.t.Helper()
	wf := k.sample("build", true)
	k.create(wf)
	setReady(k, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching, "watching configmaps in "+k.ns)

	updated := kubeciv1.TriggerEvent{Event: kubeciv1.EventUpdated, APIVersion: "v1", Kind: "ConfigMap",
		Namespace: k.ns, Name: "my-config", UID: "5f0c", ResourceVersion: "42",
		Fields: map[string]string{"data.version": "v2"},
		Object: `{"apiVersion":"v1","data":{"version":"v2"},"kind":"ConfigMap","metadata":{"name":"my-config"}}`}
	var wps []*kubeciv1.Workplan
	for i, ev := range []kubeciv1.TriggerEvent{manual, updated, manual, manual} {
		wps = append(wps, k.workplan(wf, "build-run-"+string(rune('1'+i)), ev, nil))
		if i == 2 {
			if err := k.env.Client.Patch(context.Background(), wps[i], runrequest.CancelPatch); err != nil {
				k.t.Fatal(err)
			}
		}
	}
	objs := []client.Object{wf}
	for _, wp := range wps {
		objs = append(objs, wp)
	}
	now := k.clockAfter(objs...)

	k.setStatus(wps[0], func(wp *kubeciv1.Workplan) {
		completed(wp, now.Add(-50*time.Minute), 42*time.Second)
	})
	k.setStatus(wps[1], func(wp *kubeciv1.Workplan) {
		start := now.Add(-40 * time.Minute)
		wp.Status = kubeciv1.WorkplanStatus{Phase: kubeciv1.WorkplanFailed, TaskIndex: 0, NodeName: "node-1",
			Reason:    "step step-3 failed: exit code 1",
			StartTime: at(start, 0), CompletionTime: at(start, 9*time.Second),
			Steps: []kubeciv1.StepStatus{
				{Name: "step-1", Task: 0, Phase: kubeciv1.StepSucceeded, ExitCode: exitCode(0), StartTime: at(start, 0), FinishTime: at(start, 3*time.Second)},
				{Name: "step-2", Task: 0, Phase: kubeciv1.StepSucceeded, ExitCode: exitCode(0), StartTime: at(start, 4*time.Second), FinishTime: at(start, 8*time.Second)},
				{Name: "step-3", Task: 0, Phase: kubeciv1.StepFailed, ExitCode: exitCode(1), StartTime: at(start, 4*time.Second), FinishTime: at(start, 6*time.Second),
					Message: "exit status 1: touch: /kubeci/file-3: Read-only file system"},
				{Name: "step-4", Task: 1, Phase: kubeciv1.StepSkipped},
				{Name: "step-5", Task: 1, Phase: kubeciv1.StepSkipped},
			},
			Conditions: []metav1.Condition{
				{Type: kubeciv1.ConditionSucceeded, Status: metav1.ConditionFalse, Reason: kubeciv1.ReasonStepFailed,
					Message: "step step-3 failed: exit code 1", LastTransitionTime: *at(start, 9*time.Second)},
				{Type: kubeciv1.ConditionWorkspaceCleaned, Status: metav1.ConditionTrue, Reason: kubeciv1.ReasonCleaned,
					Message: "the workspace was removed from node-1", LastTransitionTime: *at(start, 20*time.Second)},
			},
		}
	})
	k.setStatus(wps[2], func(wp *kubeciv1.Workplan) {
		runningSince(wp, now.Add(-2*time.Minute))
	})
	return wf, wps, now
}

// completed makes wp a run that started at start and Completed after took.
func completed(wp *kubeciv1.Workplan, start time.Time, took time.Duration) {
	wp.Status = kubeciv1.WorkplanStatus{Phase: kubeciv1.WorkplanCompleted, TaskIndex: int32(len(wp.Spec.Tasks) - 1),
		NodeName: "node-1", StartTime: at(start, 0), CompletionTime: at(start, took)}
}

// runningSince makes wp a run that started at start and runs its second task.
func runningSince(wp *kubeciv1.Workplan, start time.Time) {
	wp.Status = kubeciv1.WorkplanStatus{Phase: kubeciv1.WorkplanRunning, TaskIndex: 1, NodeName: "node-2",
		StartTime: at(start, 0),
		Steps: []kubeciv1.StepStatus{
			{Name: "step-1", Task: 0, Phase: kubeciv1.StepSucceeded, ExitCode: exitCode(0), StartTime: at(start, 0), FinishTime: at(start, time.Second)},
			{Name: "step-2", Task: 0, Phase: kubeciv1.StepSucceeded, ExitCode: exitCode(0), StartTime: at(start, 2*time.Second), FinishTime: at(start, 3*time.Second)},
			{Name: "step-3", Task: 0, Phase: kubeciv1.StepSucceeded, ExitCode: exitCode(0), StartTime: at(start, 2*time.Second), FinishTime: at(start, 4*time.Second)},
			{Name: "step-4", Task: 1, Phase: kubeciv1.StepRunning, StartTime: at(start, 5*time.Second)},
			{Name: "step-5", Task: 1, Phase: kubeciv1.StepWaiting},
		},
		Conditions: []metav1.Condition{{Type: kubeciv1.ConditionSucceeded, Status: metav1.ConditionUnknown,
			Reason: kubeciv1.ReasonRunning, Message: "task 1 of 2 is running", LastTransitionTime: *at(start, 0)}},
	}
}

// setReady writes wf's Ready condition as the operator does.
func setReady(k *kube, wf *kubeciv1.Workflow, status metav1.ConditionStatus, reason, message string) {
	k.t.Helper()
	ctx := context.Background()
	if err := k.env.Client.Get(ctx, client.ObjectKeyFromObject(wf), wf); err != nil {
		k.t.Fatal(err)
	}
	wf.Status.Conditions = []metav1.Condition{{Type: kubeciv1.ConditionReady, Status: status, Reason: reason,
		Message: message, ObservedGeneration: wf.Generation, LastTransitionTime: wf.CreationTimestamp}}
	if err := k.env.Client.Status().Update(ctx, wf); err != nil {
		k.t.Fatal(err)
	}
}

func TestGetWorkplans(t *testing.T) {
	k := newKube(t)
	runsFixture(k)
	cases := []struct {
		args   []string
		golden string
	}{
		{[]string{"get", "workplans"}, "get-workplans.golden"},
		{[]string{"get", "wp", "-o", "wide"}, "get-workplans-wide.golden"},
		{[]string{"get", "workplan", "build-run-2", "build-run-3"}, "get-workplans-named.golden"},
		{[]string{"get", "wp", "-o", "name"}, "get-workplans-name.golden"},
		{[]string{"get", "wp", "build-run-2", "-o", "yaml"}, "get-workplan.yaml.golden"},
		{[]string{"get", "wp", "build-run-1", "-o", "json"}, "get-workplan.json.golden"},
		{[]string{"get", "wp", "--workflow", "build", "-l", "kube.ci/run-request!=x", "-o", "name"}, "get-workplans-name.golden"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, errOut, code := k.run(c.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit code %d: %s", code, errOut)
			}
			golden.Check(t, c.golden, []byte(k.mask(out)))
		})
	}
}

func TestGetWorkflows(t *testing.T) {
	k := newKube(t)
	runsFixture(k)
	broken := k.sample("broken", false)
	broken.Spec.Steps[0].Dependency = []string{"step-5"} // a cycle, which only the operator sees
	k.create(broken)
	setReady(k, broken, metav1.ConditionFalse, kubeciv1.ReasonInvalidSpec,
		"the workflow is invalid:\nspec.steps: Invalid value: \"step-1\": dependency cycle: step-1 -> step-5 -> step-1")
	k.create(k.sample("fresh", false))

	for _, c := range []struct {
		args   []string
		golden string
	}{
		{[]string{"get", "workflows"}, "get-workflows.golden"},
		{[]string{"get", "wf", "-o", "wide"}, "get-workflows-wide.golden"},
		{[]string{"get", "wf", "build", "-o", "yaml"}, "get-workflow.yaml.golden"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, errOut, code := k.run(c.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit code %d: %s", code, errOut)
			}
			golden.Check(t, c.golden, []byte(k.mask(out)))
		})
	}
}

func TestGetAllNamespaces(t *testing.T) {
	a, b := newKube(t), newKube(t)
	for _, k := range []*kube{a, b} {
		wf := k.sample("build", false)
		k.create(wf)
		k.workplan(wf, "build-run-1", manual, nil)
	}
	out, errOut, code := a.run("get", "wp", "-A")
	if code != 0 || errOut != "" {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAMESPACE ") {
		t.Fatalf("want a header and two rows, got:\n%s", out)
	}
	for i, k := range []*kube{a, b} {
		if !strings.Contains(out, k.ns+"   build-run-1   build ") {
			t.Errorf("row %d of namespace %s missing:\n%s", i, k.ns, out)
		}
	}

	_, errOut, code = a.run("get", "wp", "build-run-1", "-A")
	if code != 1 || !strings.Contains(errOut, "a name cannot be looked up across all namespaces") {
		t.Errorf("a name with -A: code %d, %q", code, errOut)
	}
}

func TestGetEmptyAndErrors(t *testing.T) {
	k := newKube(t)
	cases := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"get", "workplans"}, 0, "No workplans found in namespace test-xxxxx.\n"},
		{[]string{"get", "wf"}, 0, "No workflows found in namespace test-xxxxx.\n"},
		{[]string{"get", "pods"}, 1, "Error: unknown kind \"pods\": use workflows (wf) or workplans (wp)\n"},
		{[]string{"get", "wp", "nope"}, 1, "Error: workplan \"nope\" not found in namespace \"test-xxxxx\" (kubeci get workplans -n test-xxxxx lists them)\n"},
		{[]string{"get", "wf", "nope"}, 1, "Error: workflow \"nope\" not found in namespace \"test-xxxxx\" (kubeci get workflows -n test-xxxxx lists them)\n"},
		{[]string{"get", "wp", "-o", "xml"}, 1, "Error: unknown output format \"xml\": use wide, yaml, json or name\n"},
		{[]string{"get", "wf", "--workflow", "x"}, 1, "Error: --workflow selects workplans: use kubeci get workplans --workflow NAME\n"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, errOut, code := k.run(c.args...)
			if code != c.code || k.mask(errOut) != c.err || out != "" {
				t.Errorf("got code %d, stderr %q, stdout %q; want code %d, stderr %q", code, k.mask(errOut), out, c.code, c.err)
			}
		})
	}
}

func TestGetWatchWorkplans(t *testing.T) {
	k := newKube(t)
	wf, wps, now := runsFixture(k)
	r := k.start("get", "wp", "-w")
	r.waitLines(5) // the header and four runs

	// The running run ends; an unchanged status write prints nothing; a new
	// run appears.
	k.setStatus(wps[2], func(wp *kubeciv1.Workplan) {
		wp.Status.Phase, wp.Status.Reason = kubeciv1.WorkplanFailed, "cancelled"
		wp.Status.CompletionTime = at(now, 0)
	})
	r.waitLines(6)
	k.setStatus(wps[2], func(wp *kubeciv1.Workplan) { wp.Status.ObservedGeneration = 9 })
	k.workplan(wf, "build-run-5", manual, nil)
	r.waitLines(7)
	if code := r.stop(); code != 0 {
		t.Fatalf("exit code %d: %s", code, r.errOut)
	}
	golden.Check(t, "get-workplans-watch.golden", []byte(k.mask(r.out.String())))
}

func TestGetWatchWorkflows(t *testing.T) {
	k := newKube(t)
	_, wps, now := runsFixture(k)
	r := k.start("get", "wf", "-w")
	r.waitLines(2)

	// The newest run starts: the Workflow's last phase changes. A change to an
	// older run does not show.
	k.setStatus(wps[3], func(wp *kubeciv1.Workplan) { runningSince(wp, now.Add(-5*time.Second)) })
	r.waitLines(3)
	k.setStatus(wps[0], func(wp *kubeciv1.Workplan) { wp.Status.NodeName = "node-3" })
	k.setStatus(wps[3], func(wp *kubeciv1.Workplan) { completed(wp, now.Add(-5*time.Second), 5*time.Second) })
	r.waitLines(4)
	if code := r.stop(); code != 0 {
		t.Fatalf("exit code %d: %s", code, r.errOut)
	}
	golden.Check(t, "get-workflows-watch.golden", []byte(k.mask(r.out.String())))
}
