package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/kubeci/kubeci/internal/workspace"
)

// envOwnImage names the environment variable the shipped Deployment sets to
// the operator's own image (by digest): the default of --cleanup-image, so
// that cleanup pods and workspace cleaners run the image the operator runs.
const envOwnImage = "KUBECI_OPERATOR_IMAGE"

const cleanupUsage = `usage: kubeci-operator cleanup [--on-sigterm] DIR
  removes a run's workspace folder: at once (what the operator's cleanup pods
  run), or with --on-sigterm once SIGTERM arrives (what the workspace cleaner,
  the native sidecar of a run's last task pod, runs)`

// cleanupMain is `kubeci-operator cleanup [--on-sigterm] DIR`, what the
// cleanup pod and the workspace cleaner run (workplan's cleanupCommand): it
// removes a run's workspace folder.
func cleanupMain(args []string) int {
	onSignal := len(args) == 2 && args[0] == "--on-sigterm"
	if onSignal {
		args = args[1:]
	}
	if len(args) != 1 || len(args[0]) > 0 && args[0][0] == '-' {
		fmt.Fprintln(os.Stderr, cleanupUsage)
		return 2
	}
	var err error
	if onSignal {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		err = workspace.RemoveWhenSignalled(args[0], stop, os.Stdout)
	} else {
		err = workspace.Remove(args[0], os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
