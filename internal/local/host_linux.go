package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Available checks, by starting one, that a step's namespaces can be set up
// here: it makes a probe step that mounts its root and workspace and exits.
func (h *Host) Available(ctx context.Context) error {
	if len(h.Self) == 0 {
		return errors.New("host: no way to re-execute kubeci was given (RuntimeOptions.Self)")
	}
	root, err := os.MkdirTemp("", "kubeci-probe-root-")
	if err != nil {
		return fmt.Errorf("host: cannot make a temporary directory: %w", err)
	}
	defer os.Remove(root)
	workspace, err := os.MkdirTemp("", "kubeci-probe-workspace-")
	if err != nil {
		return fmt.Errorf("host: cannot make a temporary directory: %w", err)
	}
	defer os.Remove(workspace)

	cmd, _ := h.command(ctx, helperArgs(root, workspace, "/", true, nil))
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	why := strings.TrimSpace(string(out))
	if why == "" {
		why = err.Error()
	}
	who := "run kubeci as root"
	if os.Geteuid() != 0 {
		who = "run kubeci as root (sudo), or allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, " +
			"user.max_user_namespaces > 0, or kernel.apparmor_restrict_unprivileged_userns=0)"
	}
	return fmt.Errorf("host: cannot give a step its own mount and PID namespaces here (%s): %s; or use --runtime docker or podman", why, who)
}

// RunStep runs the step's command through HostStepMain in new mount and PID
// namespaces (and a user namespace when not root). Stopping it sends SIGTERM to
// the step's first process, which passes it to every process of the step, and
// SIGKILL after the grace period; the PID namespace ends every process the step
// started once its first one is gone.
func (h *Host) RunStep(ctx context.Context, s Step, stdout, stderr io.Writer) Exit {
	if ctx.Err() != nil {
		return Exit{Code: -1, Stopped: true}
	}
	workDir := s.WorkingDir
	if workDir == "" {
		workDir = h.workDir
	}
	argv := append(append([]string(nil), s.Command...), s.Args...)
	cmd, stopped := h.command(ctx, helperArgs(h.root, h.workspace, workDir, false, argv))
	cmd.Env = append(os.Environ(), s.Env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	return exitOf(cmd, err, stopped.Load())
}

// command prepares a re-execution of this program into HostStepMain; stopped
// turns true when ctx ends it.
func (h *Host) command(ctx context.Context, args []string) (cmd *exec.Cmd, stopped *atomic.Bool) {
	cmd = exec.CommandContext(ctx, h.Self[0], append(append([]string(nil), h.Self[1:]...), args...)...)
	cmd.SysProcAttr = namespaceAttr()
	stopped = &atomic.Bool{}
	cmd.Cancel = func() error {
		stopped.Store(true)
		return cmd.Process.Signal(syscall.SIGTERM)
	}
	cmd.WaitDelay = h.Grace
	return cmd, stopped
}

// namespaceAttr asks for new mount and PID namespaces, and a user namespace
// mapping only the caller's own IDs when not root (with the two capabilities
// HostStepMain needs there to mount and pivot, which it drops before running
// the step). The step is in its own process group, so a Ctrl-C on the terminal
// reaches kubeci, which stops the step itself, and it is killed should kubeci
// die.
func namespaceAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{
		Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWPID,
		Setpgid:    true,
		Pdeathsig:  syscall.SIGKILL,
	}
	if uid, gid := os.Geteuid(), os.Getegid(); uid != 0 {
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		attr.GidMappingsEnableSetgroups = false
		attr.AmbientCaps = []uintptr{unix.CAP_SYS_ADMIN, unix.CAP_SYS_CHROOT}
	}
	return attr
}
