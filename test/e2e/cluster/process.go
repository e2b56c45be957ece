package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a component the harness started. Its output goes to
// logs/<name>.log and its process ID (with its start time, to tell a reused ID
// apart) to run/<name>.pid, so that Down stops it from any process.
type process struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

// startProcess starts binary with args as component name, in its own session
// so that a Ctrl-C at the terminal reaches the harness (which stops the
// components in order) rather than each component.
func startProcess(c *Config, name, binary string, args ...string) (*process, error) {
	if err := os.MkdirAll(c.LogDir(), 0o755); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Path("run"), 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(c.LogDir(), name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	fmt.Fprintf(logFile, "=== %s %s %s\n", time.Now().Format(time.RFC3339), binary, strings.Join(args, " "))

	cmd := exec.Command(binary, args...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.Dir = c.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (%s): %w", name, binary, err)
	}
	p := &process{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	start, err := processStartTime(cmd.Process.Pid)
	if err == nil {
		err = os.WriteFile(pidFile(c, name), fmt.Appendf(nil, "%d %d\n", cmd.Process.Pid, start), 0o644)
	}
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("recording the process of %s: %w", name, err)
	}
	return p, nil
}

// waitReady polls check until it succeeds. It fails early, with the end of
// the component's log, when the process exits, and also when timeout passes.
func (p *process) waitReady(ctx context.Context, timeout time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// A check stops as soon as the process exits (its port may be someone
	// else's that never answers).
	running, stopRunning := context.WithCancel(ctx)
	defer stopRunning()
	go func() {
		select {
		case <-p.done:
			stopRunning()
		case <-running.Done():
		}
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		checkCtx, cancelCheck := context.WithTimeout(running, 5*time.Second)
		last = check(checkCtx)
		cancelCheck()
		if last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited while starting (%v); the end of %s:\n%s", p.name, p.err, p.log, tail(p.log, 30))
		case <-ctx.Done():
			return fmt.Errorf("%s is not ready after %s (last check: %v); the end of %s:\n%s", p.name, timeout, last, p.log, tail(p.log, 30))
		case <-tick.C:
		}
	}
}

func pidFile(c *Config, name string) string { return c.Path("run", name+".pid") }

// stopByPIDFile stops the process recorded in run/<name>.pid, if it still runs:
// SIGTERM, then SIGKILL after grace. A recorded ID now used by another
// process (its start time differs) is left alone.
func stopByPIDFile(c *Config, name string, grace time.Duration) error {
	data, err := os.ReadFile(pidFile(c, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var pid int
	var start uint64
	if _, err := fmt.Sscan(string(data), &pid, &start); err != nil || pid <= 1 {
		return fmt.Errorf("%s holds no process ID and start time: %q", pidFile(c, name), data)
	}
	if err := stopProcess(pid, start, grace); err != nil {
		return fmt.Errorf("stopping %s (process %d): %w", name, pid, err)
	}
	return os.Remove(pidFile(c, name))
}

// stopProcess sends SIGTERM to pid, if it is still the process that started at
// start, and SIGKILL when it has not exited after grace.
func stopProcess(pid int, start uint64, grace time.Duration) error {
	if !sameProcess(pid, start) {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !sameProcess(pid, start) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if !sameProcess(pid, start) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("still running after SIGKILL")
}

// sameProcess reports whether pid is alive (not a zombie) and started at start.
func sameProcess(pid int, start uint64) bool {
	fields, err := procStat(pid)
	if err != nil || fields[0] == "Z" || fields[0] == "X" {
		return false
	}
	got, err := strconv.ParseUint(fields[19], 10, 64)
	return err == nil && got == start
}

// processStartTime is the start time of pid in clock ticks since boot.
func processStartTime(pid int) (uint64, error) {
	fields, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(fields[19], 10, 64)
}

// procStat returns the fields of /proc/<pid>/stat after the command name:
// fields[0] is the state, fields[19] the start time.
func procStat(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, data)
	}
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 {
		return nil, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, data)
	}
	return fields, nil
}

// tail returns the last n lines of a file, indented, for error messages.
func tail(file string, n int) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return "    (" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "    " + strings.Join(lines, "\n    ")
}
