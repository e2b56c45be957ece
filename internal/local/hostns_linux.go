package local

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// HostStepMain is a host step's first process, started by the host runtime as
// PID 1 of new mount and PID namespaces. It gives the step its own root (see
// enterStepRoot), where it can change nothing of this machine but the
// workspace and its working directory. Then it runs the step's command in
// --workdir as its init: it passes on the signals it gets to every process of
// the step, reaps them, and exits with the command's exit code (128+N when
// signal N ended it), which ends every process the step left behind. args are
// the arguments after HostStepCommand; it returns the exit code.
func HostStepMain(args []string) int {
	flags := flag.NewFlagSet(HostStepCommand, flag.ContinueOnError)
	root := flags.String("root", "", "empty directory to mount the step's root on")
	workspace := flags.String("workspace", "", "workspace directory to bind at "+kubeciv1.WorkspaceMountPath)
	workDir := flags.String("workdir", "/", "working directory of the command")
	probe := flags.Bool("probe", false, "set the namespaces up, then exit")
	if err := flags.Parse(args); err != nil {
		return exitSetup
	}
	if os.Getpid() != 1 {
		fmt.Fprintf(os.Stderr, "kubeci: %s runs only as the first process of a host step's namespaces\n", HostStepCommand)
		return exitSetup
	}
	if err := enterStepRoot(*root, *workspace, *workDir); err != nil {
		fmt.Fprintf(os.Stderr, "kubeci: host runtime: %v\n", err)
		return exitSetup
	}
	if *probe {
		return 0
	}
	if err := enterWorkDir(*workDir); err != nil {
		fmt.Fprintf(os.Stderr, "kubeci: host runtime: %v\n", err)
		return exitSetup
	}
	return runAsInit(flags.Args())
}

// sharedDirs are the entries of / a step sees as they are, writable: the
// devices, the kernel's interfaces (a fresh /proc is mounted besides).
var sharedDirs = map[string]bool{"dev": true, "sys": true}

// enterStepRoot makes this mount namespace's mounts private and builds the
// step's root on a tmpfs mounted on root (empty on this machine):
//
//   - each directory of / but /dev and /sys is an overlay of this machine's
//     directory under a layer of the tmpfs: the step reads this machine's
//     files and writes its own copies, discarded with the namespace (where
//     overlayfs is refused, the directory is bound read-only instead);
//   - /dev and /sys are this machine's; /proc is the step's own;
//   - the workspace is bound at /kubeci, and the working directory (when it
//     is not / and not in the workspace) is bound on its overlay: there, and
//     only there, writes reach this machine.
func enterStepRoot(root, workspace, workDir string) error {
	if root == "" || workspace == "" {
		return errors.New("--root and --workspace are required")
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("cannot make the mounts of the step's namespace private: %w", err)
	}
	if err := unix.Mount("kubeci-step-root", root, "tmpfs", 0, "mode=0755"); err != nil {
		return fmt.Errorf("cannot mount a tmpfs on %s for the step's root: %w", root, err)
	}
	newRoot, layers := filepath.Join(root, "root"), filepath.Join(root, "layers")
	for _, d := range []string{newRoot, layers} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
	}
	// pivot_root needs the new root to be a mount point.
	if err := unix.Mount(newRoot, newRoot, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("cannot bind the step's root on itself: %w", err)
	}
	entries, err := os.ReadDir("/")
	if err != nil {
		return fmt.Errorf("cannot list /: %w", err)
	}
	mountPoint := strings.TrimPrefix(kubeciv1.WorkspaceMountPath, "/")
	for _, e := range entries {
		if e.Name() == mountPoint || e.Name() == "proc" {
			continue
		}
		if err := mirror("/"+e.Name(), filepath.Join(newRoot, e.Name()), filepath.Join(layers, e.Name()), e.Type()); err != nil {
			return err
		}
	}
	if err := bindDir(workspace, filepath.Join(newRoot, mountPoint)); err != nil {
		return fmt.Errorf("cannot bind the workspace at %s: %w", kubeciv1.WorkspaceMountPath, err)
	}
	if err := bindWorkDir(workDir, newRoot); err != nil {
		return err
	}
	if err := mountProc(filepath.Join(newRoot, "proc")); err != nil {
		return err
	}
	if err := pivot(newRoot); err != nil {
		return err
	}
	// The tmpfs is also visible where it was mounted, through the bind of the
	// directory holding root: hide it there.
	_ = unix.Unmount(root, unix.MNT_DETACH)
	return nil
}

// mirror makes dst, in the step's root, show this machine's src: a symbolic
// link as it is, a directory as an overlay with its upper layer under layer
// (or as it is, for sharedDirs), a file bound read-only.
func mirror(src, dst, layer string, mode fs.FileMode) error {
	switch {
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return fmt.Errorf("cannot read the link %s: %w", src, err)
		}
		return os.Symlink(target, dst)
	case mode.IsDir() && sharedDirs[filepath.Base(src)]:
		if err := bindDir(src, dst); err != nil {
			return fmt.Errorf("cannot bind %s into the step's root: %w", src, err)
		}
		return nil
	case mode.IsDir():
		return overlayDir(src, dst, layer)
	default:
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		f.Close()
		if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("cannot bind %s into the step's root: %w", src, err)
		}
		_ = unix.Mount("", dst, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, "")
		return nil
	}
}

// overlayDir mounts on dst an overlay of this machine's src under an upper
// layer in layer (on the step's tmpfs). In a user namespace overlayfs needs
// "userxattr"; where it is refused altogether, src is bound read-only.
func overlayDir(src, dst, layer string) error {
	upper, work := filepath.Join(layer, "upper"), filepath.Join(layer, "work")
	for _, d := range []string{dst, upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", src, upper, work)
	for _, extra := range []string{"", ",userxattr"} {
		if unix.Mount("kubeci-step", dst, "overlay", 0, opts+extra) == nil {
			return nil
		}
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("cannot show %s in the step's root: %w", src, err)
	}
	if err := unix.Mount("", dst, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("cannot make %s read-only in the step's root: %w", src, err)
	}
	return nil
}

// bindWorkDir binds this machine's working directory of the step over its
// overlay, so that what the step writes there stays, as with a checkout it
// builds in. / and the workspace are left alone, and so is a directory this
// machine does not have.
func bindWorkDir(workDir, newRoot string) error {
	dir := filepath.Clean(workDir)
	if dir == "/" || isInWorkspace(dir) {
		return nil
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil
	}
	dst := filepath.Join(newRoot, dir)
	if err := unix.Mount(dir, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("cannot bind the working directory %s: %w", dir, err)
	}
	return nil
}

// bindDir makes the directory dst and binds src, with everything mounted
// under it, on it.
func bindDir(src, dst string) error {
	if err := os.Mkdir(dst, 0o755); err != nil {
		return err
	}
	return unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, "")
}

// mountProc mounts a /proc that shows the step's own processes. Where the
// kernel refuses (for example in a container with a partly masked /proc), the
// machine's /proc is bound instead.
func mountProc(dst string) error {
	if err := os.Mkdir(dst, 0o555); err != nil {
		return err
	}
	if err := unix.Mount("proc", dst, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err == nil {
		return nil
	}
	if err := unix.Mount("/proc", dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("cannot mount /proc in the step's root: %w", err)
	}
	return nil
}

// pivot makes root the root directory and detaches the old one. Where
// pivot_root cannot work (a root file system that is not a mount, as in an
// initramfs), it falls back to chroot.
func pivot(root string) error {
	if err := unix.Chdir(root); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err == nil {
		if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
			return fmt.Errorf("cannot detach the old root: %w", err)
		}
	} else if err := unix.Chroot("."); err != nil {
		return fmt.Errorf("cannot enter the step's root %s: %w", root, err)
	}
	return unix.Chdir("/")
}

// enterWorkDir changes to the step's working directory. Like a container
// engine it makes a missing one, but only inside the workspace: nothing is
// created elsewhere on this machine.
func enterWorkDir(dir string) error {
	err := os.Chdir(dir)
	if errors.Is(err, fs.ErrNotExist) && isInWorkspace(dir) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("cannot make the working directory %s: %w", dir, err)
		}
		err = os.Chdir(dir)
	}
	if err != nil {
		return fmt.Errorf("cannot use %s as the working directory: %w (the host runtime makes a missing working directory only under %s)",
			dir, err, kubeciv1.WorkspaceMountPath)
	}
	return nil
}

func isInWorkspace(dir string) bool {
	dir = filepath.Clean(dir)
	return dir == kubeciv1.WorkspaceMountPath || strings.HasPrefix(dir, kubeciv1.WorkspaceMountPath+"/")
}

// runAsInit runs argv as the step's command, passes every signal that stops
// processes on to all processes of the namespace, reaps every child (orphans
// come to PID 1) and returns the command's exit code.
func runAsInit(argv []string) int {
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "kubeci: host runtime: the step has no command")
		return exitSetup
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT)

	// In a user namespace the two capabilities given for the mounts must not
	// reach the step. Capabilities belong to a thread, and the command is
	// forked from the thread that starts it: drop them on this one and keep
	// this goroutine on it.
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "kubeci: host runtime: cannot drop ambient capabilities: %v\n", err)
		return exitSetup
	}

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "kubeci: cannot run the step's command %q: %v\n", argv[0], err)
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return exitNotFound
		}
		return exitCannotExec
	}
	go func() {
		for sig := range signals {
			_ = unix.Kill(-1, sig.(unix.Signal))
		}
	}()
	main := cmd.Process.Pid
	for {
		var status unix.WaitStatus
		pid, err := unix.Wait4(-1, &status, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "kubeci: host runtime: waiting for the step: %v\n", err)
			return exitSetup
		}
		if pid != main {
			continue
		}
		if status.Signaled() {
			return 128 + int(status.Signal())
		}
		return status.ExitStatus()
	}
}
