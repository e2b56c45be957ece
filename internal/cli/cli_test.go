package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// runCLI runs kubeci with args in-process and returns its standard output,
// standard error and exit code.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewRootCommand("kubeci", genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	cmd.SetArgs(args)
	err := cmd.Execute()
	var exit ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.Code
	case err != nil:
		errOut.WriteString("Error: " + err.Error() + "\n")
		code = 1
	}
	return out.String(), errOut.String(), code
}
