package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Runtime runs the steps of a local run: on this machine (host) or in
// containers (docker, podman).
type Runtime interface {
	// Name is "host", "docker" or "podman".
	Name() string
	// Available says why the runtime cannot work on this machine, and what to
	// do about it; nil when it can.
	Available(ctx context.Context) error
	// Prepare readies a run: it refuses steps the runtime cannot run, with the
	// reason, and returns warnings to print once.
	Prepare(ctx context.Context, run RunInfo) (warnings []string, err error)
	// RunStep runs one step until it ends. When ctx is done first it stops the
	// step, everything it started included (SIGTERM, then SIGKILL after the
	// grace period), and reports Stopped.
	RunStep(ctx context.Context, s Step, stdout, stderr io.Writer) Exit
	// Cleanup removes what Prepare made. It is called once, after the last step.
	Cleanup() error
}

// RunInfo is what a runtime knows of the run it prepares.
type RunInfo struct {
	// ID is unique to the run; container names include it.
	ID string
	// Workspace is the directory every step sees at /kubeci.
	Workspace string
	// Steps are the run's steps, in plan order.
	Steps []Step
	// Mounts are files container runtimes show every step, read-only where
	// marked (the trigger object); the host runtime's steps see this machine's
	// files anyway.
	Mounts []BundleMount
}

// Exit is how a step's process or container ended.
type Exit struct {
	// Code is the exit code; 128+N when a signal N ended the process; -1 when
	// it never started.
	Code int
	// Stopped is true when the runtime stopped the step because its context was
	// done (timeout or interruption).
	Stopped bool
	// Err says why the step could not run at all.
	Err error
}

// Runtime names accepted by Select.
const (
	RuntimeAuto   = "auto"
	RuntimeHost   = "host"
	RuntimeDocker = "docker"
	RuntimePodman = "podman"
	RuntimeOCI    = "oci"
)

// RuntimeNames lists the runtimes Select accepts.
var RuntimeNames = []string{RuntimeAuto, RuntimeOCI, RuntimeHost, RuntimeDocker, RuntimePodman}

// RuntimeOptions configure the runtimes Select makes.
type RuntimeOptions struct {
	// Self is the command line that, followed by HostStepCommand and its
	// arguments, re-executes this program into HostStepMain: for kubeci
	// {"/proc/self/exe", "run"}.
	Self []string
	// Grace is how long a stopped step has between SIGTERM and SIGKILL.
	Grace time.Duration
	// Images is the oci runtime's image cache; nil means one in
	// DefaultImageCacheDir.
	Images *ImageCache
	// Progress, when set, shows the oci runtime's pulls.
	Progress func(ref string) PullProgress
	// ProbeImages, when set, tells auto whether the oci runtime can have the
	// run's images (it pulls them); nil means it can.
	ProbeImages func(ctx context.Context, o *OCI) error
}

// Select returns the runtime named name once it has checked that it works
// here. "auto" picks docker or podman when an engine answers, else oci when
// runc is installed and the images can be had, else host; its note says why,
// in one line. The error says why no runtime fits and what to do.
func Select(ctx context.Context, name string, o RuntimeOptions) (rt Runtime, note string, err error) {
	host := &Host{Self: o.Self, Grace: o.Grace}
	docker := &Container{Engine: RuntimeDocker, Grace: o.Grace}
	podman := &Container{Engine: RuntimePodman, Grace: o.Grace}
	oci := &OCI{Self: o.Self, Grace: o.Grace, Images: o.Images, Progress: o.Progress}
	if oci.Images == nil {
		dir, err := DefaultImageCacheDir()
		if err != nil && (name == RuntimeOCI || name == RuntimeAuto || name == "") {
			return nil, "", err
		}
		oci.Images = &ImageCache{Dir: dir}
	}
	switch name {
	case RuntimeHost:
		return host, "", host.Available(ctx)
	case RuntimeDocker:
		return docker, "", docker.Available(ctx)
	case RuntimePodman:
		return podman, "", podman.Available(ctx)
	case RuntimeOCI:
		return oci, "", oci.Available(ctx)
	case RuntimeAuto, "":
	default:
		return nil, "", fmt.Errorf("unknown runtime %q: use one of %s", name, strings.Join(RuntimeNames, ", "))
	}
	var reasons []string
	for _, c := range []Runtime{docker, podman, oci, host} {
		err := c.Available(ctx)
		if err == nil && c == oci && o.ProbeImages != nil {
			err = o.ProbeImages(ctx, oci)
		}
		if err == nil {
			return c, autoNote(reasons), nil
		}
		reasons = append(reasons, err.Error())
	}
	return nil, "", fmt.Errorf("no runtime works on this machine:\n  %s", strings.Join(reasons, "\n  "))
}

// autoNote says, in one line, why auto passed over the runtimes before the
// one it picked: the first clause of each reason (--runtime NAME gives the
// whole of it).
func autoNote(reasons []string) string {
	if len(reasons) == 0 {
		return "auto"
	}
	short := make([]string, len(reasons))
	for i, r := range reasons {
		short[i], _, _ = strings.Cut(r, " (")
	}
	return "auto: " + strings.Join(short, "; ")
}

// exitOf turns what exec.Cmd.Run returned into an Exit; stopped says whether
// the command's context ended it.
func exitOf(cmd *exec.Cmd, err error, stopped bool) Exit {
	if cmd.ProcessState == nil {
		// Start refuses to start a command whose context is already done.
		if stopped || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return Exit{Code: -1, Stopped: true}
		}
		return Exit{Code: -1, Err: err}
	}
	return Exit{Code: exitCode(cmd.ProcessState), Stopped: stopped}
}

// exitCode is a process's exit code, or 128+N when signal N ended it (as
// shells and container engines report it).
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(interface {
		Signaled() bool
		Signal() syscall.Signal
	}); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
