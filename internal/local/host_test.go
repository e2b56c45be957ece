//go:build linux

package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/local/proctest"
	"github.com/kubeci/kubeci/internal/trigger"
)

// hostRun is the result and output of a run with the host runtime.
type hostRun struct {
	res         *Result
	out, errOut string
	host        *Host
}

func runOnHost(t *testing.T, ctx context.Context, wf *kubeciv1.Workflow, c Config) hostRun {
	t.Helper()
	h := hostRuntime(t)
	var out, errOut bytes.Buffer
	c.Runtime = h
	c.Printer = NewPrinter(&out, &errOut, false, false)
	res, err := Run(ctx, wf, c)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return hostRun{res: res, out: out.String(), errOut: errOut.String(), host: h}
}

// shWorkflow is a Workflow whose steps run sh -c SCRIPT; deps[i] are the
// dependencies of step i.
func shWorkflow(name string, scripts map[string]string, deps map[string][]string, order ...string) *kubeciv1.Workflow {
	wf := &kubeciv1.Workflow{}
	wf.Name = name
	for _, n := range order {
		wf.Spec.Steps = append(wf.Spec.Steps, kubeciv1.Step{
			Name: n, Image: "busybox", Commands: []string{"sh", "-c"}, Args: []string{scripts[n]}, Dependency: deps[n],
		})
	}
	return wf
}

func stepResult(t *testing.T, res *Result, name string) StepResult {
	t.Helper()
	for _, s := range res.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %s in %+v", name, res.Steps)
	return StepResult{}
}

func exitCodeOf(r StepResult) int {
	if r.ExitCode == nil {
		return -1
	}
	return *r.ExitCode
}

func TestHostDesignDocExample(t *testing.T) {
	_, kubeciBefore := os.Stat(kubeciv1.WorkspaceMountPath)
	r := runOnHost(t, context.Background(), loadExample(t, "design-doc.yaml"), Config{})

	if r.res.Outcome != Succeeded {
		t.Fatalf("run %s, want Succeeded\n%s%s", r.res.Outcome, r.out, r.errOut)
	}
	for _, f := range []string{"step-5", "file-1", "file-2", "file-3", "file-4"} {
		if !strings.Contains(r.out, "step-5 | "+f+"\n") {
			t.Errorf("step-5's output lacks %q:\n%s", f, r.out)
		}
	}
	if r.res.WorkspaceKept {
		t.Error("the temporary workspace is reported kept")
	}
	if _, err := os.Stat(filepath.Dir(r.res.Workspace)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the workspace %s is still there after the run (%v)", r.res.Workspace, err)
	}
	if _, err := os.Stat(r.host.root); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the steps' root mount point %s is still there after the run (%v)", r.host.root, err)
	}
	if _, err := os.Stat(kubeciv1.WorkspaceMountPath); errors.Is(err, fs.ErrNotExist) != errors.Is(kubeciBefore, fs.ErrNotExist) {
		t.Errorf("the run changed whether %s exists on this machine", kubeciv1.WorkspaceMountPath)
	}
	if !strings.Contains(r.errOut, "warning: the host runtime ignores step images (busybox)") || strings.Count(r.errOut, "warning:") != 1 {
		t.Errorf("want exactly one warning about images, got:\n%s", r.errOut)
	}
}

func TestHostFailingSerialStep(t *testing.T) {
	ws := t.TempDir()
	r := runOnHost(t, context.Background(), loadExample(t, "failing.yaml"), Config{WorkspaceDir: ws})

	if r.res.Outcome != Failed {
		t.Errorf("run %s, want Failed", r.res.Outcome)
	}
	if s := stepResult(t, r.res, "build"); s.Outcome != Succeeded {
		t.Errorf("build %s, want Succeeded", s.Outcome)
	}
	if s := stepResult(t, r.res, "test"); s.Outcome != Failed || exitCodeOf(s) != 3 {
		t.Errorf("test %s with exit code %d, want Failed with 3", s.Outcome, exitCodeOf(s))
	}
	if s := stepResult(t, r.res, "publish"); s.Outcome != Skipped || s.ExitCode != nil || !s.Start.IsZero() {
		t.Errorf("publish %+v, want Skipped without exit code or start", s)
	}
	if strings.Contains(r.out, "publish started") || strings.Contains(r.out, "publishing") {
		t.Errorf("publish started:\n%s", r.out)
	}
	if _, err := os.Stat(filepath.Join(ws, "published")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("publish ran: its file is in the workspace (%v)", err)
	}
	if !strings.Contains(r.errOut, "test    | test failed: 1 of 3 checks\n") {
		t.Errorf("test's standard error is not printed, prefixed, on standard error:\n%s", r.errOut)
	}
	if !r.res.WorkspaceKept || r.res.Workspace != ws {
		t.Errorf("workspace %s kept=%v, want the given %s kept", r.res.Workspace, r.res.WorkspaceKept, ws)
	}
	if data, err := os.ReadFile(filepath.Join(ws, "artifact")); err != nil || string(data) != "built by build\n" {
		t.Errorf("the given workspace holds %q (%v), want build's artifact", data, err)
	}
}

// examples/parallel.yaml's two parallel steps each wait (at most 10 s) for a
// file the other writes: both succeed only if they run at the same time.
func TestHostParallelStepsRunTogether(t *testing.T) {
	r := runOnHost(t, context.Background(), loadExample(t, "parallel.yaml"), Config{})
	for _, name := range []string{"left", "right", "join"} {
		if s := stepResult(t, r.res, name); s.Outcome != Succeeded {
			t.Errorf("%s %s (%s), want Succeeded\n%s%s", name, s.Outcome, s.Message, r.out, r.errOut)
		}
	}
	if !strings.Contains(r.out, "left  | saw right: we ran together (hello from left)") {
		t.Errorf("left's output is missing:\n%s", r.out)
	}
}

// A step sees the KUBECI_* environment, its own env and its workingDir (made
// when missing inside the workspace); one without workingDir runs in kubeci's
// directory.
func TestHostStepEnvironment(t *testing.T) {
	wf := shWorkflow("env", map[string]string{
		"inside": `echo "pwd=$(pwd) step=$KUBECI_STEP event=$KUBECI_TRIGGER_EVENT workspace=$KUBECI_WORKSPACE own=$OWN"`,
		"here":   `pwd`,
	}, nil, "inside", "here")
	wf.Spec.Steps[0].WorkingDir = "/kubeci/src/app"
	wf.Spec.Steps[0].Env = append(wf.Spec.Steps[0].Env, corev1EnvVar("OWN", "$(KUBECI_WORKFLOW)-value"))
	r := runOnHost(t, context.Background(), wf, Config{})
	if r.res.Outcome != Succeeded {
		t.Fatalf("run %s\n%s%s", r.res.Outcome, r.out, r.errOut)
	}
	if want := "inside | pwd=/kubeci/src/app step=inside event=Manual workspace=/kubeci own=env-value\n"; !strings.Contains(r.out, want) {
		t.Errorf("output lacks %q:\n%s", want, r.out)
	}
	wd, _ := os.Getwd()
	if want := "here   | " + wd + "\n"; !strings.Contains(r.out, want) {
		t.Errorf("output lacks %q:\n%s", want, r.out)
	}
}

func TestHostCommandNotFound(t *testing.T) {
	wf := &kubeciv1.Workflow{}
	wf.Name = "missing"
	wf.Spec.Steps = []kubeciv1.Step{{Name: "missing", Image: "busybox", Commands: []string{"kubeci-no-such-command"}}}
	r := runOnHost(t, context.Background(), wf, Config{})
	s := stepResult(t, r.res, "missing")
	if s.Outcome != Failed || exitCodeOf(s) != exitNotFound || s.Message != "the command was not found" {
		t.Errorf("step %+v, want Failed with exit code 127", s)
	}
	if !strings.Contains(r.errOut, `kubeci: cannot run the step's command "kubeci-no-such-command"`) {
		t.Errorf("standard error does not say what is missing:\n%s", r.errOut)
	}
}

// A step's command ending ends every process it started: the PID namespace
// goes with it. Without that, the background sleep would hold the step's
// output open and the run would last until the context's deadline.
func TestHostStepLeavesNoProcess(t *testing.T) {
	tok := proctest.LongSleep(t)
	wf := shWorkflow("leftover", map[string]string{"bg": tok + " & echo started"}, nil, "bg")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := runOnHost(t, ctx, wf, Config{})
	if s := stepResult(t, r.res, "bg"); s.Outcome != Succeeded {
		t.Fatalf("step %s (%s), want Succeeded\n%s%s", s.Outcome, s.Message, r.out, r.errOut)
	}
	if left := proctest.ProcessesWith(t, tok); len(left) > 0 {
		t.Errorf("processes the step started are still running: %v", left)
	}
}

func TestHostStepTimeout(t *testing.T) {
	tok := proctest.LongSleep(t)
	wf := shWorkflow("slow", map[string]string{
		"slow":  "exec " + tok,
		"after": "echo never",
	}, map[string][]string{"after": {"slow"}}, "slow", "after")
	r := runOnHost(t, context.Background(), wf, Config{StepTimeout: 300 * time.Millisecond})
	s := stepResult(t, r.res, "slow")
	if s.Outcome != TimedOut || exitCodeOf(s) != 128+15 {
		t.Errorf("slow %s with exit code %d, want TimedOut, ended by SIGTERM (143)", s.Outcome, exitCodeOf(s))
	}
	if !strings.Contains(s.Message, "step timeout (300ms)") {
		t.Errorf("message %q does not name the timeout", s.Message)
	}
	if a := stepResult(t, r.res, "after"); a.Outcome != Skipped {
		t.Errorf("after %s, want Skipped", a.Outcome)
	}
	if r.res.Outcome != Failed {
		t.Errorf("run %s, want Failed", r.res.Outcome)
	}
	if left := proctest.ProcessesWith(t, tok); len(left) > 0 {
		t.Errorf("the timed out step is still running: %v", left)
	}
}

// A step that ignores SIGTERM is killed after the grace period.
func TestHostStepIgnoringSIGTERMIsKilled(t *testing.T) {
	tok := proctest.LongSleep(t)
	wf := shWorkflow("stubborn", map[string]string{"stubborn": "trap '' TERM; exec " + tok}, nil, "stubborn")
	r := runOnHost(t, context.Background(), wf, Config{StepTimeout: 200 * time.Millisecond})
	s := stepResult(t, r.res, "stubborn")
	if s.Outcome != TimedOut || exitCodeOf(s) != 128+9 {
		t.Errorf("step %s with exit code %d, want TimedOut, killed (137)", s.Outcome, exitCodeOf(s))
	}
	if left := proctest.ProcessesWith(t, tok); len(left) > 0 {
		t.Errorf("the step is still running: %v", left)
	}
}

// Cancelling the run's context (what SIGINT does) stops the running step and
// skips the rest.
func TestHostInterrupt(t *testing.T) {
	tok := proctest.LongSleep(t)
	ws := t.TempDir()
	wf := shWorkflow("interrupted", map[string]string{
		"long":  "touch /kubeci/started; exec " + tok,
		"after": "touch /kubeci/after",
	}, map[string][]string{"after": {"long"}}, "long", "after")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for range 200 {
			if _, err := os.Stat(filepath.Join(ws, "started")); err == nil {
				cancel()
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	r := runOnHost(t, ctx, wf, Config{WorkspaceDir: ws})
	if r.res.Outcome != Interrupted {
		t.Errorf("run %s, want Interrupted", r.res.Outcome)
	}
	if s := stepResult(t, r.res, "long"); s.Outcome != Interrupted {
		t.Errorf("long %s, want Interrupted", s.Outcome)
	}
	if s := stepResult(t, r.res, "after"); s.Outcome != Skipped {
		t.Errorf("after %s, want Skipped", s.Outcome)
	}
	if _, err := os.Stat(filepath.Join(ws, "after")); err == nil {
		t.Error("after ran")
	}
	if left := proctest.ProcessesWith(t, tok); len(left) > 0 {
		t.Errorf("the interrupted step is still running: %v", left)
	}
}

func TestHostRefusesStepsWithoutCommands(t *testing.T) {
	_, err := hostChecks([]Step{{Name: "a", Image: "x", Command: []string{"sh"}}, {Name: "b", Image: "y", Args: []string{"x"}}})
	if err == nil || !strings.Contains(err.Error(), "cannot run step(s) b: they have no commands") || !strings.Contains(err.Error(), "--runtime oci, docker") {
		t.Errorf("error %v, want a refusal naming step b and what to do", err)
	}
	warnings, err := hostChecks([]Step{{Name: "a", Image: "x", Command: []string{"sh"}}, {Name: "b", Image: "y", Command: []string{"sh"}}, {Name: "c", Image: "x", Command: []string{"sh"}}})
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "ignores step images (x, y)") {
		t.Errorf("warnings %q (%v), want one naming the images once each", warnings, err)
	}
}

// BenchmarkHostRunStep measures what the host runtime adds to a step: a
// re-execution into new namespaces, the step's root, and `true`.
func BenchmarkHostRunStep(b *testing.B) {
	h := &Host{Self: []string{"/proc/self/exe"}, Grace: time.Second}
	if err := h.Available(context.Background()); err != nil {
		b.Skipf("the host runtime cannot work here: %v", err)
	}
	ws := b.TempDir()
	if _, err := h.Prepare(context.Background(), RunInfo{ID: "bench", Workspace: ws, Steps: []Step{{Name: "s", Image: "x", Command: []string{"true"}}}}); err != nil {
		b.Fatal(err)
	}
	defer h.Cleanup()
	var out bytes.Buffer
	for b.Loop() {
		if exit := h.RunStep(context.Background(), Step{Name: "s", Command: []string{"true"}}, &out, &out); exit.Code != 0 || exit.Err != nil {
			b.Fatalf("exit %+v: %s", exit, out.String())
		}
	}
}

// BenchmarkRunDesignDoc measures a whole local run of the design doc's example
// with the host runtime: five steps in two tasks, workspace made and removed.
func BenchmarkRunDesignDoc(b *testing.B) {
	h := &Host{Self: []string{"/proc/self/exe"}, Grace: time.Second}
	if err := h.Available(context.Background()); err != nil {
		b.Skipf("the host runtime cannot work here: %v", err)
	}
	wf := loadExample(b, "design-doc.yaml")
	for b.Loop() {
		var out bytes.Buffer
		res, err := Run(context.Background(), wf, Config{Runtime: h, Printer: NewPrinter(&out, &out, false, false)})
		if err != nil || res.Outcome != Succeeded {
			b.Fatalf("%v %v\n%s", err, res, out.String())
		}
	}
}

// A host step's writes outside the workspace and its working directory are
// its own: files it makes or removes in /etc, /usr and $HOME are as they were
// on this machine afterwards, and the next step does not see them either.
func TestHostStepCannotChangeHost(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory")
	}
	probe := fmt.Sprintf("kubeci-probe-%d", os.Getpid())
	wd := t.TempDir()
	paths := []string{"/etc/" + probe, "/usr/" + probe, filepath.Join(home, probe), "/tmp/" + probe}
	keep := filepath.Join(wd, probe)
	wf := shWorkflow("sandbox", map[string]string{
		"write": "touch " + strings.Join(paths, " ") + " " + keep + " && echo changed >> /etc/hostname && echo wrote",
		"check": "for f in " + strings.Join(paths, " ") + "; do test ! -e $f || exit 9; done; test -e " + keep + " && echo clean",
	}, map[string][]string{"check": {"write"}}, "write", "check")
	for i := range wf.Spec.Steps {
		wf.Spec.Steps[i].WorkingDir = wd
	}
	hostname, _ := os.ReadFile("/etc/hostname")
	r := runOnHost(t, context.Background(), wf, Config{})
	if r.res.Outcome != Succeeded {
		t.Fatalf("run %s, want Succeeded\n%s%s", r.res.Outcome, r.out, r.errOut)
	}
	for _, p := range paths {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			os.Remove(p)
			t.Errorf("a step's write to %s reached this machine (%v)", p, err)
		}
	}
	if after, _ := os.ReadFile("/etc/hostname"); !bytes.Equal(after, hostname) {
		os.WriteFile("/etc/hostname", hostname, 0o644)
		t.Errorf("a step changed /etc/hostname on this machine: %q", after)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("the step's write to its working directory %s is lost: %v", keep, err)
	}
}

// spec.activeDeadlineSeconds ends a run as on the cluster: the running step
// is stopped, the rest never start, and the run fails.
func TestHostActiveDeadline(t *testing.T) {
	wf := shWorkflow("deadline", map[string]string{"slow": "sleep 30", "later": "true"},
		map[string][]string{"later": {"slow"}}, "slow", "later")
	one := int64(1)
	wf.Spec.ActiveDeadlineSeconds = &one
	start := time.Now()
	r := runOnHost(t, context.Background(), wf, Config{})
	if took := time.Since(start); took > 15*time.Second {
		t.Errorf("the run took %s, past its 1s deadline", took)
	}
	if r.res.Outcome != Failed {
		t.Errorf("run %s, want Failed", r.res.Outcome)
	}
	if s := stepResult(t, r.res, "slow"); s.Outcome != TimedOut || !strings.Contains(s.Message, "activeDeadlineSeconds") {
		t.Errorf("slow %s (%s), want TimedOut by activeDeadlineSeconds", s.Outcome, s.Message)
	}
	if s := stepResult(t, r.res, "later"); s.Outcome != Skipped || !strings.Contains(s.Message, "activeDeadlineSeconds") {
		t.Errorf("later %s (%s), want Skipped by activeDeadlineSeconds", s.Outcome, s.Message)
	}
}

// A run given a trigger object acts as one its update triggered: the
// KUBECI_TRIGGER_* variables, the sanitised object in a read-only file, and
// the watched fields' values.
func TestHostTriggerObject(t *testing.T) {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "creds", "namespace": "ci", "managedFields": []any{map[string]any{"manager": "x"}}},
		"data":     map[string]any{"password": "c2VjcmV0"},
		"status":   map[string]any{"revision": "abc", "count": int64(2)},
	}}
	var fields []trigger.FieldPath
	for _, f := range []string{"status.revision", "status.count", "status.absent"} {
		p, err := trigger.ParseFieldPath(f)
		if err != nil {
			t.Fatal(err)
		}
		fields = append(fields, p)
	}
	wf := shWorkflow("trig", map[string]string{"show": `echo "$KUBECI_TRIGGER_EVENT $KUBECI_TRIGGER_KIND $KUBECI_TRIGGER_NAMESPACE/$KUBECI_TRIGGER_NAME ` +
		`rev=$KUBECI_FIELD_STATUS_REVISION count=$KUBECI_FIELD_STATUS_COUNT absent=${KUBECI_FIELD_STATUS_ABSENT-unset}"; ` +
		`cat "$KUBECI_TRIGGER_OBJECT"; echo; test -w "$KUBECI_TRIGGER_OBJECT" && stat -c %a "$KUBECI_TRIGGER_OBJECT"`}, nil, "show")
	r := runOnHost(t, context.Background(), wf, Config{Trigger: &TriggerObject{Object: obj, Fields: fields}})
	if r.res.Outcome != Succeeded {
		t.Fatalf("run %s\n%s%s", r.res.Outcome, r.out, r.errOut)
	}
	for _, want := range []string{
		"show | Updated Secret ci/creds rev=abc count=2 absent=unset\n",
		`show | {"apiVersion":"v1","kind":"Secret","metadata":{"name":"creds","namespace":"ci"},"status":{"count":2,"revision":"abc"}}` + "\n",
		"show | 444\n",
		"as if triggered by Secret ci/creds (Updated)",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
}
