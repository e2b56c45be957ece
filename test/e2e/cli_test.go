//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/test/e2e/cluster"
	"github.com/kubeci/kubeci/test/e2e/images"
)

var (
	buildCLIOnce sync.Once
	cliPath      string
	cliErr       error
)

// kubeciCLI builds the kubeci command of this checkout once.
func kubeciCLI(t *testing.T) string {
	t.Helper()
	buildCLIOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kubeci-e2e-cli-")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "kubeci")
		out, err := exec.Command("go", "build", "-o", cliPath, "../../cmd/kubeci").CombinedOutput()
		if err != nil {
			cliErr = errors.New(string(out))
		}
	})
	if cliErr != nil {
		t.Fatalf("building kubeci: %v", cliErr)
	}
	return cliPath
}

// runKubeci runs the kubeci command against the cluster and returns its
// standard output, standard error and exit code.
func runKubeci(t *testing.T, cl *cluster.Cluster, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubeciCLI(t), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cl.Kubeconfig(), "NO_COLOR=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("kubeci %s: %v", strings.Join(args, " "), err)
	}
	return stdout.String(), stderr.String(), code
}

// `kubeci trigger --logs` starts a run and follows its steps' logs across both
// tasks until it ends; `logs`, `get`, `describe` and `wait` then show it.
func TestCLITriggerFollowsTheRun(t *testing.T) {
	cl, c := installKubeCI(t)
	ns := cl.Namespace(t)
	wf := docWorkflow(t, ns)
	wf.Spec.Triggers = nil
	if err := c.Create(t.Context(), wf); err != nil {
		t.Fatal(err)
	}
	waitWatching(t, c, wf)

	out, errOut, code := runKubeci(t, cl, "-n", ns, "trigger", wf.Name, "--logs")
	if code != 0 {
		t.Fatalf("trigger --logs exited %d:\n%s\n%s", code, out, errOut)
	}
	run := strings.SplitN(out, "\n", 2)[0]
	for _, want := range []string{"step-5", "file-1", "file-2", "file-3", "file-4", "Completed"} {
		if !strings.Contains(out, want) {
			t.Errorf("trigger --logs must show %q; it printed:\n%s", want, out)
		}
	}

	out, _, code = runKubeci(t, cl, "-n", ns, "logs", run)
	if code != 0 || strings.Index(out, "step-1") > strings.Index(out, "step-5") || !strings.Contains(out, "file-4") {
		t.Errorf("logs must print the steps in plan order (exit %d):\n%s", code, out)
	}
	out, _, code = runKubeci(t, cl, "-n", ns, "get", "workplans")
	if code != 0 || !strings.Contains(out, run) || !strings.Contains(out, "Completed") {
		t.Errorf("get workplans (exit %d):\n%s", code, out)
	}
	out, _, code = runKubeci(t, cl, "-n", ns, "describe", "workplan", run)
	if code != 0 || !strings.Contains(out, "step-5") || !strings.Contains(out, "localhost") {
		t.Errorf("describe workplan (exit %d):\n%s", code, out)
	}
	if _, _, code = runKubeci(t, cl, "-n", ns, "wait", run, "--timeout", "30s"); code != 0 {
		t.Errorf("wait on a completed run exited %d, want 0", code)
	}
}

// `kubeci logs -f`, started before the run's pods exist, follows the run to
// its end; a failing step makes `wait` exit 1.
func TestCLILogsFollowAFailingRun(t *testing.T) {
	cl, c := installKubeCI(t)
	ns := cl.Namespace(t)
	wf := &kubeciv1.Workflow{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "flaky"},
		Spec: kubeciv1.WorkflowSpec{Steps: []kubeciv1.Step{
			{Name: "build", Image: images.Busybox, Commands: []string{"sh", "-c", "sleep 3; echo built"}},
			{Name: "test", Image: images.Busybox, Commands: []string{"sh", "-c", "echo 1 of 2 tests failed; exit 4"}, Dependency: []string{"build"}},
		}},
	}
	if err := c.Create(t.Context(), wf); err != nil {
		t.Fatal(err)
	}
	waitWatching(t, c, wf)

	out, errOut, code := runKubeci(t, cl, "-n", ns, "trigger", wf.Name)
	if code != 0 {
		t.Fatalf("trigger exited %d: %s", code, errOut)
	}
	run := strings.TrimSpace(out)
	start := time.Now()
	out, _, code = runKubeci(t, cl, "-n", ns, "logs", "-f", run)
	if !strings.Contains(out, "built") || !strings.Contains(out, "1 of 2 tests failed") {
		t.Errorf("logs -f must follow both steps (exit %d, %s):\n%s", code, time.Since(start), out)
	}
	_, errOut, code = runKubeci(t, cl, "-n", ns, "wait", run, "--timeout", "60s")
	if code != 1 {
		t.Errorf("wait on a failed run exited %d, want 1 (%s)", code, errOut)
	}
}
