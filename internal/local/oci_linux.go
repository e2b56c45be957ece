package local

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Available checks that runc (or crun) is installed and that a step's mount
// namespace can be made here: as root, or, rootless, in a user namespace of
// its own (where kubeci is root and the containers run as that root).
func (o *OCI) Available(ctx context.Context) error {
	if len(o.Self) == 0 {
		return errors.New("oci: no way to re-execute kubeci was given (RuntimeOptions.Self)")
	}
	if o.Runc == "" {
		for _, c := range []string{"runc", "crun"} {
			if _, err := exec.LookPath(c); err == nil {
				o.Runc = c
				break
			}
		}
	}
	if _, err := exec.LookPath(o.runc()); err != nil {
		return errors.New("oci: no runc or crun command in PATH (Debian, Ubuntu: apt-get install runc)")
	}
	if os.Geteuid() == 0 {
		return nil
	}
	out, err := o.helper(ctx, []string{OCIStepCommand, "--probe"}).CombinedOutput()
	if err != nil {
		return fmt.Errorf("oci: cannot run rootless here (%s): run kubeci as root, or allow unprivileged user namespaces, or use --runtime docker, podman or host",
			strings.TrimSpace(string(out)+" "+err.Error()))
	}
	return nil
}

// rootless reports whether steps run in a user namespace of kubeci's user.
func rootless() bool { return os.Geteuid() != 0 }

// helper prepares a re-execution of this program into OCIStepMain in a new
// mount namespace, and, when not root, a new user namespace where the
// caller's user and group are root (so that it may mount, and runc runs
// rootless). It is killed should kubeci die.
func (o *OCI) helper(ctx context.Context, args []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, o.Self[0], append(append([]string(nil), o.Self[1:]...), args...)...)
	attr := &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS, Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if rootless() {
		attr.Cloneflags |= unix.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
	}
	cmd.SysProcAttr = attr
	return cmd
}

// RunStep writes the step's bundle and runs it with `runc run` in a mount
// namespace of its own, where OCIStepMain has mounted the step's root. runc
// passes the signals it gets to the container: stopping the step sends it
// SIGTERM, then, after the grace period, the container is deleted (SIGKILL).
func (o *OCI) RunStep(ctx context.Context, s Step, stdout, stderr io.Writer) Exit {
	if ctx.Err() != nil {
		return Exit{Code: -1, Stopped: true}
	}
	bundle, err := o.stepBundle(s)
	if err != nil {
		return Exit{Code: -1, Err: fmt.Errorf("oci runtime: %w", err)}
	}
	defer os.RemoveAll(bundle)
	id := o.containerID(s.Name)
	state := filepath.Join(o.dir, "state")
	runc := []string{o.runc(), "--root", state, "run", "--bundle", bundle, id}
	cmd := o.helper(ctx, ociHelperArgs(o.images[s.Image].Rootfs, bundle, runc))
	cmd.Stdout, cmd.Stderr = stdout, stderr
	stopped := &atomic.Bool{}
	cmd.Cancel = func() error {
		stopped.Store(true)
		return cmd.Process.Signal(syscall.SIGTERM)
	}
	cmd.WaitDelay = o.Grace
	err = cmd.Run()
	if stopped.Load() {
		dctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
		_ = exec.CommandContext(dctx, o.runc(), "--root", state, "delete", "--force", id).Run()
		cancel()
	}
	exit := exitOf(cmd, err, stopped.Load())
	if exit.Err != nil {
		exit.Err = fmt.Errorf("cannot run %s: %w", o.runc(), exit.Err)
	}
	return exit
}

// OCIStepMain mounts a step's root file system, then becomes runc. It runs in
// a mount namespace of its own (made by the oci runtime), so the mount ends
// with the step, whatever happens to kubeci. The root is an overlay of the
// image's unpacked files (--lower, never written) under an upper layer in the
// bundle; where overlayfs is refused, the image's files are copied instead.
// args are the arguments after OCIStepCommand: --lower, --bundle, then "--"
// and runc's command line. It returns an exit code only when it cannot exec.
func OCIStepMain(args []string) int {
	flags := flag.NewFlagSet(OCIStepCommand, flag.ContinueOnError)
	lower := flags.String("lower", "", "the image's unpacked root file system")
	bundle := flags.String("bundle", "", "the step's bundle directory")
	probe := flags.Bool("probe", false, "check that the namespaces can be made, then exit")
	if err := flags.Parse(args); err != nil {
		return exitSetup
	}
	if *probe {
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			fmt.Fprintf(os.Stderr, "cannot make the mounts of a namespace private: %v\n", err)
			return exitSetup
		}
		return 0
	}
	argv := flags.Args()
	if *lower == "" || *bundle == "" || len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "kubeci: oci runtime: --lower, --bundle and runc's command line are required")
		return exitSetup
	}
	if err := mountStepRoot(*lower, *bundle); err != nil {
		fmt.Fprintf(os.Stderr, "kubeci: oci runtime: %v\n", err)
		return exitSetup
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubeci: oci runtime: %v\n", err)
		return exitSetup
	}
	err = unix.Exec(path, argv, os.Environ())
	fmt.Fprintf(os.Stderr, "kubeci: oci runtime: cannot run %s: %v\n", path, err)
	return exitSetup
}

// mountStepRoot mounts bundle/rootfs as an overlay of lower under
// bundle/upper, in this process's own mount namespace.
func mountStepRoot(lower, bundle string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("cannot make the mounts of the step's namespace private: %w", err)
	}
	rootfs := filepath.Join(bundle, "rootfs")
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, filepath.Join(bundle, "upper"), filepath.Join(bundle, "work"))
	for _, extra := range []string{"", ",userxattr"} { // userxattr: in a user namespace
		if unix.Mount("kubeci-step", rootfs, "overlay", 0, opts+extra) == nil {
			return nil
		}
	}
	// No overlayfs here (or not on this file system): a copy is as fresh.
	if out, err := exec.Command("cp", "-a", lower+"/.", rootfs).CombinedOutput(); err != nil {
		return fmt.Errorf("cannot mount an overlay on %s, nor copy the image's files there: %v: %s", rootfs, err, out)
	}
	return nil
}
