//go:build !linux

package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
)

// notLinux says that a runtime needs Linux.
func notLinux(name string) error {
	return fmt.Errorf("%s: the %s runtime needs Linux, and this is %s: use --runtime docker or podman", name, name, runtime.GOOS)
}

// Available: the host runtime needs Linux namespaces.
func (h *Host) Available(context.Context) error { return notLinux(RuntimeHost) }

// RunStep cannot run anything where Available fails.
func (h *Host) RunStep(context.Context, Step, io.Writer, io.Writer) Exit {
	return Exit{Code: -1, Err: notLinux(RuntimeHost)}
}

// Available: the oci runtime needs Linux and runc.
func (o *OCI) Available(context.Context) error { return notLinux(RuntimeOCI) }

// RunStep cannot run anything where Available fails.
func (o *OCI) RunStep(context.Context, Step, io.Writer, io.Writer) Exit {
	return Exit{Code: -1, Err: notLinux(RuntimeOCI)}
}

// HostStepMain exists only on Linux.
func HostStepMain([]string) int { return stepHelperNotLinux(RuntimeHost) }

// OCIStepMain exists only on Linux.
func OCIStepMain([]string) int { return stepHelperNotLinux(RuntimeOCI) }

func stepHelperNotLinux(name string) int {
	fmt.Fprintf(os.Stderr, "kubeci: %v\n", notLinux(name))
	return exitSetup
}

// rootless: there is no oci runtime off Linux.
func rootless() bool { return false }
