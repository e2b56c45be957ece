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

// Available: the oci runtime needs Linux.
func (o *OCI) Available(context.Context) error {
	return fmt.Errorf("oci: runc needs Linux, and this is %s: use --runtime docker or podman", runtime.GOOS)
}

// RunStep cannot run anything where Available fails.
func (o *OCI) RunStep(context.Context, Step, io.Writer, io.Writer) Exit {
	return Exit{Code: -1, Err: errors.New("the oci runtime needs Linux")}
}

// OCIStepMain exists only on Linux.
func OCIStepMain([]string) int {
	fmt.Fprintln(os.Stderr, "kubeci: the oci runtime needs Linux")
	return exitSetup
}
