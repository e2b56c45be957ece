package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubeci/kubeci/internal/version"
)

func newVersionCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print kubeci's version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(o.Out, "kubeci %s\n", version.String())
			return err
		},
	}
}
