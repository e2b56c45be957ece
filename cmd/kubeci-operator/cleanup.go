package main

import (
	"fmt"
	"os"

	"github.com/kubeci/kubeci/internal/workspace"
)

// envOwnImage names the environment variable the shipped Deployment sets to
// the operator's own image (by digest): the default of --cleanup-image, so
// that cleanup pods run the image the operator runs.
const envOwnImage = "KUBECI_OPERATOR_IMAGE"

// cleanupMain is `kubeci-operator cleanup DIR`, what the cleanup pod runs
// (workplan.CleanupCommand): it removes a run's workspace folder.
func cleanupMain(args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: kubeci-operator cleanup DIR (removes a run's workspace folder; the operator's cleanup pods run it)")
		return 2
	}
	if err := workspace.Remove(args[0], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
