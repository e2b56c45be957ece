package local

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// LabelLocalRun is on every container of a local run, with the run's ID:
// `docker ps --filter label=kube.ci/local-run` lists them.
const LabelLocalRun = "kube.ci/local-run"

// engineTimeout bounds the engine commands kubeci runs besides the steps
// (probing, stopping, removing).
const engineTimeout = 30 * time.Second

// Container runs each step in a container of its image with a docker or
// podman engine, the workspace bind-mounted at /kubeci. Containers are named
// kubeci-RUNID-STEP, unique to the run, so that concurrent runs never collide,
// and removed when they end.
type Container struct {
	// Engine is the engine's command: "docker" or "podman".
	Engine string
	// Grace is how long a stopped step has between SIGTERM and SIGKILL.
	Grace time.Duration

	runID, workspace string
	mounts           []BundleMount
}

// Name is the engine's name.
func (c *Container) Name() string { return c.Engine }

// Available checks that the engine answers, not only that its command exists:
// `docker version` must reach a daemon; `podman info` must find its storage
// and OCI runtime.
func (c *Container) Available(ctx context.Context) error {
	if _, err := exec.LookPath(c.Engine); err != nil {
		return fmt.Errorf("%s: not installed (no %s command in PATH)", c.Engine, c.Engine)
	}
	ctx, cancel := context.WithTimeout(ctx, engineTimeout)
	defer cancel()
	args := []string{"version", "--format", "{{.Server.Version}}"}
	if c.Engine == RuntimePodman {
		args = []string{"info", "--format", "{{.Host.OCIRuntime.Name}}"}
	}
	out, err := exec.CommandContext(ctx, c.Engine, args...).CombinedOutput()
	if err == nil && strings.TrimSpace(string(out)) != "" {
		return nil
	}
	why := lastLine(string(out))
	if why == "" && err != nil {
		why = err.Error()
	}
	return fmt.Errorf("%s: the %s command is installed but no engine answers (%s %s: %s): start the engine, or use another --runtime",
		c.Engine, c.Engine, c.Engine, args[0], why)
}

// Prepare remembers the run; a workspace path with a comma cannot be given to
// --mount.
func (c *Container) Prepare(_ context.Context, run RunInfo) ([]string, error) {
	if strings.Contains(run.Workspace, ",") {
		return nil, fmt.Errorf("%s runtime: the workspace path %q holds a comma, which %s --mount cannot take: use --workspace with another directory",
			c.Engine, run.Workspace, c.Engine)
	}
	c.runID, c.workspace, c.mounts = run.ID, run.Workspace, run.Mounts
	return nil, nil
}

// RunStep runs the step with `ENGINE run --rm`. Stopping it runs `ENGINE stop`
// with the grace period, then removes the container.
func (c *Container) RunStep(ctx context.Context, s Step, stdout, stderr io.Writer) Exit {
	if ctx.Err() != nil {
		return Exit{Code: -1, Stopped: true}
	}
	name := containerName(c.runID, s.Name)
	cmd := exec.CommandContext(ctx, c.Engine, containerArgs(c.runID, c.workspace, c.mounts, s)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	stopped := &atomic.Bool{}
	stoppedDone := make(chan struct{})
	cmd.Cancel = func() error {
		stopped.Store(true)
		go func() {
			defer close(stoppedDone)
			_ = c.engine("stop", "--time", strconv.Itoa(int(c.Grace.Seconds())), name)
		}()
		return nil
	}
	// Time for `stop` itself; after that the client is killed and the
	// container removed below.
	cmd.WaitDelay = c.Grace + engineTimeout
	err := cmd.Run()
	if stopped.Load() {
		<-stoppedDone
		_ = c.engine("rm", "--force", name)
	}
	exit := exitOf(cmd, err, stopped.Load())
	if exit.Err != nil {
		exit.Err = fmt.Errorf("cannot run %s: %w", c.Engine, exit.Err)
	}
	return exit
}

// Cleanup removes any container of the run still there (normally none: each
// is removed when it ends).
func (c *Container) Cleanup() error {
	if c.runID == "" {
		return nil // not prepared: nothing ran
	}
	ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, c.Engine, "ps", "--all", "--quiet", "--filter", "label="+LabelLocalRun+"="+c.runID).Output()
	if err != nil {
		return fmt.Errorf("%s: cannot list the run's containers: %w", c.Engine, err)
	}
	ids := strings.Fields(string(out))
	if len(ids) == 0 {
		return nil
	}
	if err := c.engine(append([]string{"rm", "--force"}, ids...)...); err != nil {
		return fmt.Errorf("%s: cannot remove the run's containers %s: %w", c.Engine, strings.Join(ids, " "), err)
	}
	return nil
}

// engine runs an engine command that is not a step, bounded in time.
func (c *Container) engine(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
	defer cancel()
	return exec.CommandContext(ctx, c.Engine, args...).Run()
}

// containerName is the name of a step's container: unique to the run.
func containerName(runID, step string) string {
	return "kubeci-" + runID + "-" + step
}

// containerArgs is the `run` command line of a step, the way a pod runs its
// container: the step's commands replace the image's entrypoint (and its
// default arguments), its args replace the image's default arguments.
func containerArgs(runID, workspace string, mounts []BundleMount, s Step) []string {
	args := []string{"run", "--rm",
		"--name", containerName(runID, s.Name),
		"--label", LabelLocalRun + "=" + runID,
		"--mount", "type=bind,source=" + workspace + ",target=" + kubeciv1.WorkspaceMountPath,
	}
	for _, m := range mounts {
		mount := "type=bind,source=" + m.Source + ",target=" + m.Destination
		if m.ReadOnly {
			mount += ",readonly"
		}
		args = append(args, "--mount", mount)
	}
	if s.WorkingDir != "" {
		args = append(args, "--workdir", s.WorkingDir)
	}
	for _, e := range s.Env {
		args = append(args, "--env", e)
	}
	if len(s.Command) > 0 {
		args = append(args, "--entrypoint", s.Command[0])
	}
	args = append(args, s.Image)
	if len(s.Command) > 1 {
		args = append(args, s.Command[1:]...)
	}
	return append(args, s.Args...)
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
