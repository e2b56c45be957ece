package local

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// HostStepCommand is the hidden argument with which the host runtime
// re-executes this program (RuntimeOptions.Self) to enter a step's namespaces;
// the program must then call HostStepMain with the arguments that follow it.
const HostStepCommand = "__host-step"

// Exit codes of a host step that did not get to run its command; they match
// what docker run and shells use.
const (
	// exitSetup: the step's namespaces could not be set up.
	exitSetup = 125
	// exitCannotExec: the command exists but cannot be executed.
	exitCannotExec = 126
	// exitNotFound: the command was not found.
	exitNotFound = 127
)

// Host runs each step's command on this machine, in its own mount namespace
// (where the workspace is bound at /kubeci and the rest of the file system is
// the machine's) and its own PID namespace (so that when the step's command
// ends, or the step is stopped, every process it started ends too). It needs
// Linux, and root or an unprivileged user namespace. Step images are ignored.
type Host struct {
	// Self re-executes this program into HostStepMain (see RuntimeOptions).
	Self []string
	// Grace is how long a stopped step has between SIGTERM and SIGKILL.
	Grace time.Duration

	// root is the directory each step's namespace mounts its root on; it stays
	// empty on this machine.
	root string
	// workspace is the run's workspace directory.
	workspace string
	// workDir is the working directory of steps that name none: the one
	// kubeci runs in.
	workDir string
}

// Name is "host".
func (h *Host) Name() string { return RuntimeHost }

// Prepare refuses steps without commands (the host runtime cannot know an
// image's entrypoint), warns once that images are ignored, and makes the empty
// directory each step mounts its root on.
func (h *Host) Prepare(_ context.Context, run RunInfo) ([]string, error) {
	warnings, err := hostChecks(run.Steps)
	if err != nil {
		return nil, err
	}
	if h.workDir, err = os.Getwd(); err != nil {
		return nil, fmt.Errorf("host runtime: cannot tell the current directory (steps without workingDir run there): %w", err)
	}
	if h.root, err = makeRunTemp("root"); err != nil {
		return nil, fmt.Errorf("host runtime: cannot make a directory for the steps' root mount: %w", err)
	}
	h.workspace = run.Workspace
	return warnings, nil
}

// hostChecks is what Prepare decides from the steps alone.
func hostChecks(steps []Step) (warnings []string, err error) {
	var images, entrypoints []string
	for _, s := range steps {
		if !slices.Contains(images, s.Image) {
			images = append(images, s.Image)
		}
		if len(s.Command) == 0 {
			entrypoints = append(entrypoints, s.Name)
		}
	}
	if len(entrypoints) > 0 {
		return nil, fmt.Errorf("the host runtime cannot run step(s) %s: they have no commands, so they run their image's entrypoint, "+
			"which the host runtime does not know; give them commands, or use --runtime oci, docker or podman", strings.Join(entrypoints, ", "))
	}
	warnings = append(warnings, fmt.Sprintf("the host runtime ignores step images (%s): each step runs this machine's own programs "+
		"with kubeci's environment; use --runtime oci, docker or podman to run steps in their images", strings.Join(images, ", ")))
	return warnings, nil
}

// Cleanup removes the steps' root mount point. It is removed with os.Remove,
// never recursively: it is empty on this machine, whatever a step did.
func (h *Host) Cleanup() error {
	if h.root == "" {
		return nil
	}
	if err := os.Remove(h.root); err != nil {
		return fmt.Errorf("host runtime: cannot remove the steps' root mount point: %w", err)
	}
	return nil
}

// helperArgs is the command line of a host step after Self.
func helperArgs(root, workspace, workDir string, probe bool, argv []string) []string {
	args := []string{HostStepCommand, "--root", root, "--workspace", workspace, "--workdir", workDir}
	if probe {
		args = append(args, "--probe")
	}
	return append(append(args, "--"), argv...)
}
