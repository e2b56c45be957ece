package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kubeci/kubeci/internal/local"
)

// exitUsage is the exit code of a command given bad arguments or flags.
const exitUsage = 2

// usageErrors makes every command of root report bad arguments and bad flags
// the same way, and exit with exitUsage: "Error: ..." and where to find
// help, on standard error.
//
// kubeci run -o json also prints its JSON error object to out.
func usageErrors(root *cobra.Command, out, errOut io.Writer) {
	usage := func(c *cobra.Command, err error) error {
		fmt.Fprintf(errOut, "Error: %v\nSee '%s --help'.\n", err, c.CommandPath())
		if f := c.Flags().Lookup("output"); c.Name() == "run" && f != nil && f.Value.String() == "json" {
			_ = local.WriteJSONNotRun(out, []string{err.Error()})
		}
		return ExitError{Code: exitUsage}
	}
	root.SetFlagErrorFunc(usage)
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if check := c.Args; check != nil {
			c.Args = func(c *cobra.Command, args []string) error {
				if err := check(c, args); err != nil {
					if !hasVisibleCommands(c) && strings.HasPrefix(err.Error(), "unknown command") {
						// cobra.NoArgs on a command with hidden subcommands.
						err = fmt.Errorf("%s takes no arguments, got %q", c.CommandPath(), strings.Join(args, " "))
					}
					return usage(c, err)
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func hasVisibleCommands(c *cobra.Command) bool {
	for _, sub := range c.Commands() {
		if !sub.Hidden {
			return true
		}
	}
	return false
}
