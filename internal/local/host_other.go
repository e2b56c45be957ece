//go:build !linux

package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
)

// Available: the host runtime needs Linux namespaces.
func (h *Host) Available(context.Context) error {
	return fmt.Errorf("host: the host runtime needs Linux mount namespaces, and this is %s: use --runtime docker or podman", runtime.GOOS)
}

// RunStep cannot run anything where Available fails.
func (h *Host) RunStep(context.Context, Step, io.Writer, io.Writer) Exit {
	return Exit{Code: -1, Err: errors.New("the host runtime needs Linux")}
}

// HostStepMain exists only on Linux.
func HostStepMain([]string) int {
	fmt.Fprintln(os.Stderr, "kubeci: the host runtime needs Linux")
	return exitSetup
}
