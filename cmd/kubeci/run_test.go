package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubeci/kubeci/internal/local/proctest"
)

// These tests build the real kubeci binary and run `kubeci run` as a user
// would, from the repository's root, with the host runtime (CI runs them as
// root on Linux).

type ran struct {
	code           int
	stdout, stderr string
}

func (r ran) String() string {
	return fmt.Sprintf("exit code %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// buildKubeci builds kubeci into a directory any user may read, removed after
// the test.
func buildKubeci(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("kubeci run's host runtime needs Linux")
	}
	dir, err := os.MkdirTemp("", "kubeci-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "kubeci")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func kubeci(t *testing.T, bin string, args ...string) ran {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = "../.."
	return finish(t, cmd)
}

func finish(t *testing.T, cmd *exec.Cmd) ran {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("%s: %v", cmd, err)
	}
	return ran{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

var workspaceLine = regexp.MustCompile(`Workspace: (\S+) \(removed at the end\)`)

// workspaceOf is the temporary workspace a run printed.
func workspaceOf(t *testing.T, stdout string) string {
	t.Helper()
	m := workspaceLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no temporary workspace in the output:\n%s", stdout)
	}
	return m[1]
}

func assertGone(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s is still there after the run (%v)", path, err)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunCommand(t *testing.T) {
	bin := buildKubeci(t)

	t.Run("the README's main command runs the design doc's example", func(t *testing.T) {
		r := kubeci(t, bin, "run", "-f", "examples/design-doc.yaml")
		if r.code != 0 {
			t.Fatalf("want exit code 0, got %s", r)
		}
		for _, want := range []string{"step-5 | step-5\n", "step-5 | file-1\n", "step-5 | file-2\n", "step-5 | file-3\n", "step-5 | file-4\n",
			"STEP       KIND      PHASE      EXIT  DURATION  MESSAGE\n", "task 1\n├─ step-4  serial    Succeeded  0 ", "Succeeded: 5 succeeded, in "} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("output lacks %q: %s", want, r)
			}
		}
		if strings.Contains(r.stdout+r.stderr, "\x1b[") {
			t.Errorf("colour without a terminal: %s", r)
		}
		ws := workspaceOf(t, r.stdout)
		assertGone(t, ws)
		assertGone(t, filepath.Dir(ws))
	})

	t.Run("a failing serial step fails the run and later steps never start", func(t *testing.T) {
		ws := t.TempDir()
		r := kubeci(t, bin, "run", "-f", "examples/failing.yaml", "--workspace", ws)
		if r.code != 1 {
			t.Fatalf("want exit code 1, got %s", r)
		}
		if !regexp.MustCompile(`(?m)^├─ test +serial +Failed +3 `).MatchString(r.stdout) || !regexp.MustCompile(`(?m)^└─ publish +parallel +Skipped +not started: step test did not succeed$`).MatchString(r.stdout) {
			t.Errorf("the summary does not show test failed with exit code 3 and publish skipped: %s", r)
		}
		if strings.Contains(r.stdout, "publish started") {
			t.Errorf("publish started: %s", r)
		}
		if _, err := os.Stat(filepath.Join(ws, "published")); err == nil {
			t.Error("publish ran: its file is in the workspace")
		}
	})

	t.Run("-o json prints the result on standard output, the progress on standard error", func(t *testing.T) {
		r := kubeci(t, bin, "run", "-f", "examples/failing.yaml", "-o", "json")
		if r.code != 1 {
			t.Fatalf("want exit code 1, got %s", r)
		}
		var res struct {
			Workflow string
			Result   string
			Steps    []struct {
				Name     string
				Result   string
				ExitCode *int
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
			t.Fatalf("standard output is not JSON: %v\n%s", err, r)
		}
		if res.Workflow != "failing" || res.Result != "Failed" || len(res.Steps) != 3 ||
			res.Steps[1].Result != "Failed" || res.Steps[1].ExitCode == nil || *res.Steps[1].ExitCode != 3 ||
			res.Steps[2].Result != "Skipped" || res.Steps[2].ExitCode != nil {
			t.Errorf("unexpected result %+v", res)
		}
		if !strings.Contains(r.stderr, "build   | building") || !strings.Contains(r.stderr, "==> test failed") {
			t.Errorf("the progress is not on standard error: %s", r)
		}
	})

	t.Run("invalid workflows are refused with kubeci validate's messages", func(t *testing.T) {
		file := writeFile(t, t.TempDir(), "cycle.yaml", `apiVersion: kube.ci/v1alpha1
kind: Workflow
metadata:
  name: cycle
spec:
  steps:
  - {name: a, image: busybox, commands: [sh], dependency: [b]}
  - {name: b, image: busybox, commands: [sh], dependency: [a]}
  - {name: c, image: "", commands: [sh], dependency: [nope]}
`)
		r := kubeci(t, bin, "run", "-f", file)
		v := kubeci(t, bin, "validate", "-f", file)
		if r.code != 2 || v.code != 1 {
			t.Fatalf("want run to exit 2 and validate 1; run: %s\nvalidate: %s", r, v)
		}
		if r.stdout != "" || r.stderr != v.stdout || !strings.Contains(r.stderr, "cycle.yaml: workflow cycle: spec.steps") {
			t.Errorf("run's messages differ from validate's:\nrun: %s\nvalidate: %s", r, v)
		}
	})

	t.Run("valueFrom is refused: it needs a cluster", func(t *testing.T) {
		file := writeFile(t, t.TempDir(), "secret.yaml", `apiVersion: kube.ci/v1alpha1
kind: Workflow
metadata:
  name: secret
spec:
  steps:
  - name: a
    image: busybox
    commands: [sh, -c, echo $TOKEN]
    env:
    - name: TOKEN
      valueFrom: {secretKeyRef: {name: creds, key: token}}
`)
		r := kubeci(t, bin, "run", "-f", file)
		want := file + `: workflow secret: spec.steps[0].env[0].valueFrom: step "a" takes TOKEN from key "token" of Secret "creds", which only a cluster can resolve`
		if r.code != 2 || !strings.Contains(r.stderr, want) {
			t.Errorf("want exit code 2 and %q, got %s", want, r)
		}
	})

	t.Run("bad flags exit 2", func(t *testing.T) {
		for _, args := range [][]string{
			{"run", "-f", "examples/design-doc.yaml", "--no-such-flag"},
			{"run", "-f", "examples/design-doc.yaml", "--runtime", "vm"},
			{"run", "-f", "examples/design-doc.yaml", "-o", "yaml"},
			{"run", "-f", "examples/design-doc.yaml", "--step-timeout", "-1s"},
			{"run"},
			{"run", "-f", "examples/no-such-file.yaml"},
		} {
			if r := kubeci(t, bin, args...); r.code != 2 || !strings.Contains(r.stderr, "Error: ") || strings.Contains(r.stdout, "started") {
				t.Errorf("kubeci %s: want exit code 2 and an error, got %s", strings.Join(args, " "), r)
			}
		}
	})

	t.Run("a runtime that cannot work says why and exits 2", func(t *testing.T) {
		for _, engine := range []string{"docker", "podman"} {
			r := kubeci(t, bin, "run", "-f", "examples/design-doc.yaml", "--runtime", engine)
			if r.code == 0 {
				t.Logf("%s works here", engine)
				continue
			}
			if r.code != 2 || !strings.Contains(r.stderr, "the "+engine+" runtime cannot work here: "+engine+": ") {
				t.Errorf("--runtime %s: want exit code 2 and why, got %s", engine, r)
			}
		}
	})

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(fmt.Sprintf("%v stops the running step, cleans up and exits non-zero", sig), func(t *testing.T) {
			testSignal(t, bin, sig)
		})
	}

	t.Run("an unprivileged user runs steps in a user namespace", func(t *testing.T) {
		testUnprivileged(t, bin)
	})
}

// testSignal sends sig to kubeci while a step sleeps, and checks that the step
// is gone, the workspace removed and the exit code 128+sig.
func testSignal(t *testing.T, bin string, sig syscall.Signal) {
	sleep := proctest.LongSleep(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "long.yaml", fmt.Sprintf(`apiVersion: kube.ci/v1alpha1
kind: Workflow
metadata:
  name: long
spec:
  steps:
  - {name: long, image: busybox, commands: [sh, -c], args: ["touch /kubeci/started; %s"]}
  - {name: after, image: busybox, commands: [sh, -c], args: ["touch /kubeci/after"], dependency: [long]}
`, sleep))
	stdoutPath := filepath.Join(dir, "stdout")
	stdout, err := os.Create(stdoutPath)
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "run", "-f", file)
	cmd.Stdout, cmd.Stderr = stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	var ws string
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := os.ReadFile(stdoutPath)
		if m := workspaceLine.FindSubmatch(out); m != nil {
			if _, err := os.Stat(filepath.Join(string(m[1]), "started")); err == nil {
				ws = string(m[1])
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the step never started:\n%s\n%s", out, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if left := proctest.ProcessesWith(t, sleep); len(left) == 0 {
		t.Fatalf("the test cannot find the step's process %q", sleep)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("kubeci did not exit within 30s of the signal")
	}
	out, _ := os.ReadFile(stdoutPath)
	r := ran{code: cmd.ProcessState.ExitCode(), stdout: string(out), stderr: stderr.String()}
	if r.code != 128+int(sig) {
		t.Errorf("want exit code %d, got %s", 128+int(sig), r)
	}
	if !regexp.MustCompile(`(?m)^├─ long +serial +Failed .* stopped: the run was interrupted$`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^└─ after +parallel +Skipped `).MatchString(r.stdout) || !regexp.MustCompile(`(?m)^Interrupted: 1 interrupted, 1 skipped`).MatchString(r.stdout) {
		t.Errorf("the summary does not show long interrupted and after skipped: %s", r)
	}
	if left := proctest.ProcessesWith(t, sleep); len(left) > 0 {
		t.Errorf("the step is still running: %v", left)
	}
	assertGone(t, ws)
}

// testUnprivileged runs the design doc's example as user nobody, where the
// kernel lets unprivileged users make user namespaces.
func testUnprivileged(t *testing.T, bin string) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to become another user; as a user, the other tests already run unprivileged")
	}
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	probe := exec.Command("unshare", "--user", "--mount", "true")
	probe.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("this kernel does not let an unprivileged user make user and mount namespaces (unshare: %v %s)", err, out)
	}
	dir := filepath.Dir(bin)
	example, err := os.ReadFile("../../examples/design-doc.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "design-doc.yaml", string(example))
	cmd := exec.Command(bin, "run", "-f", "design-doc.yaml", "--runtime", "host")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TMPDIR=/tmp")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
	r := finish(t, cmd)
	if r.code != 0 || !strings.Contains(r.stdout, "step-5 | file-4\n") {
		t.Fatalf("want the run to succeed as nobody, got %s", r)
	}
	assertGone(t, workspaceOf(t, r.stdout))
}
