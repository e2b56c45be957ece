package workspace

import (
	"fmt"
	"io"
	"os"
)

// RemoveWhenSignalled is what the workspace cleaner runs: the native sidecar
// (an init container with restartPolicy Always) of a run's last task pod,
// `kubeci-operator cleanup --on-sigterm DIR`. It checks dir as Remove does,
// then waits for a signal on stop: the kubelet sends SIGTERM to a pod's
// sidecars once all its other containers have exited (and when the pod is
// deleted or passes its activeDeadlineSeconds, after the other containers
// have stopped). It then removes dir as Remove does. The exit code says
// whether the workspace is gone, which the operator reads from the pod's
// status.
func RemoveWhenSignalled(dir string, stop <-chan os.Signal, out io.Writer) error {
	if err := checkDir(dir); err != nil {
		return err
	}
	fmt.Fprintf(out, "kubeci: removing %s once the run's steps have exited\n", dir)
	sig := <-stop
	fmt.Fprintf(out, "kubeci: %v received\n", sig)
	return Remove(dir, out)
}
