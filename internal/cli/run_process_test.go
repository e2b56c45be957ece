//go:build linux

package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// asKubeciEnv makes this test binary run as kubeci (TestMain): the tests
// below start it as a process of its own, to send it signals and close its
// output, and the host runtime re-executes it as it re-executes kubeci.
const asKubeciEnv = "KUBECI_TEST_AS_KUBECI"

// kubeciMain is cmd/kubeci's main.
func kubeciMain() int {
	cmd := NewRootCommand("kubeci", genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	if err := cmd.Execute(); err != nil {
		var exit ExitError
		if errors.As(err, &exit) {
			return exit.Code
		}
		fmt.Fprintln(os.Stderr, "Error:", err)
		return 1
	}
	return 0
}

// kubeciProcess prepares this test binary as kubeci, with its own temporary
// directory (to see what a run leaves there).
func kubeciProcess(t *testing.T, tmp string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/proc/self/exe", args...)
	cmd.Env = append(os.Environ(), asKubeciEnv+"=1", "TMPDIR="+tmp)
	return cmd
}

// workflowFile writes a one-step Workflow running script with sh.
func workflowFile(t *testing.T, script string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "wf.yaml")
	wf := fmt.Sprintf(`apiVersion: kube.ci/v1alpha1
kind: Workflow
metadata: {name: proc}
spec:
  steps:
  - {name: step, image: busybox, commands: [sh, -c], args: [%q]}
`, script)
	if err := os.WriteFile(file, []byte(wf), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// runTemps lists the run's temporary directories left in tmp.
func runTemps(t *testing.T, tmp string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(tmp, "kubeci-*"))
	return m
}

// A signal stops the run's step and kubeci cleans up before it exits with
// 128+N; the step does not get to finish.
func TestRunSignals(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the host runtime is tested as root")
	}
	for _, tt := range []struct {
		sig  syscall.Signal
		code int
	}{
		{syscall.SIGINT, 130},
		{syscall.SIGTERM, 143},
		{syscall.SIGHUP, 129},
	} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			tmp, ws := t.TempDir(), t.TempDir()
			file := workflowFile(t, "touch /kubeci/started; sleep 30; touch /kubeci/finished")
			cmd := kubeciProcess(t, tmp, "run", "-f", file, "--runtime", "host", "--workspace", ws)
			out, _ := cmd.StdoutPipe()
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitForFile(t, filepath.Join(ws, "started"))
			cmd.Process.Signal(tt.sig)
			text, _ := io.ReadAll(out)
			err := cmd.Wait()
			if code := exitCodeOf(err); code != tt.code {
				t.Errorf("exit code %d, want %d\n%s", code, tt.code, text)
			}
			if _, err := os.Stat(filepath.Join(ws, "finished")); err == nil {
				t.Errorf("the step was not stopped")
			}
			if left := runTemps(t, tmp); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

// A closed standard output (kubeci run | head -1) does not kill kubeci: the
// step runs to its end, the run cleans up and exits as the run ended.
func TestRunClosedOutput(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the host runtime is tested as root")
	}
	tmp, ws := t.TempDir(), t.TempDir()
	file := workflowFile(t, "for i in $(seq 200); do echo line $i; done; sleep 1; touch /kubeci/finished")
	cmd := kubeciProcess(t, tmp, "run", "-f", file, "--runtime", "host", "--workspace", ws)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	io.ReadFull(out, buf)
	out.Close() // as head -1 does
	err = cmd.Wait()
	if code := exitCodeOf(err); code != 0 {
		t.Errorf("exit code %d (%v), want 0", code, err)
	}
	if _, err := os.Stat(filepath.Join(ws, "finished")); err != nil {
		t.Errorf("the step did not run to its end: %v", err)
	}
	if left := runTemps(t, tmp); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// What a killed run left is removed by the next run, which says so; a
// directory that does not name its process is reported, not removed.
func TestRunCleansLeftovers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the host runtime is tested as root")
	}
	tmp := t.TempDir()
	dead := filepath.Join(tmp, "kubeci-run-999999999-123") // no such process
	unknown := filepath.Join(tmp, "kubeci-run-123456")     // an older kubeci's
	for _, d := range []string{filepath.Join(dead, "workspace"), unknown} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := kubeciProcess(t, tmp, "run", "-f", workflowFile(t, "true"), "--runtime", "host")
	text, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, text)
	}
	if !strings.Contains(string(text), "Removed "+dead+", left by a kubeci run that was killed") {
		t.Errorf("the run does not say it removed %s:\n%s", dead, text)
	}
	if !strings.Contains(string(text), "warning: "+unknown+" was left by an earlier kubeci run") {
		t.Errorf("the run does not report %s:\n%s", unknown, text)
	}
	if left := runTemps(t, tmp); len(left) != 1 || left[0] != unknown {
		t.Errorf("left: %v, want only %s", left, unknown)
	}
}

func waitForFile(t *testing.T, file string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(file); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", file)
}

func exitCodeOf(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
