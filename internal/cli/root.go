// Package cli implements the kubeci command: validate, plan and run workflows
// locally, and trigger, inspect, follow and cancel runs on a cluster.
package cli

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ExitError ends the command with Code after the command has printed what went
// wrong; main exits with the code and prints nothing more.
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Options are what every subcommand shares: where to print and how to reach a
// cluster (the standard kubectl flags).
type Options struct {
	genericiooptions.IOStreams
	ConfigFlags *genericclioptions.ConfigFlags
	// Clock tells the time: what ages and durations are measured against,
	// and when a log that could not be opened yet is tried again.
	Clock clock.Clock

	// waiting, when set, is told of each object a watch goes on waiting
	// after: tests learn from it what a command has seen, instead of
	// sleeping.
	waiting func(client.Object)
}

// NewRootCommand returns the kubeci command with all its subcommands. argv0 is
// the program's name: installed as kubectl-kubeci it presents itself as the
// kubectl plugin "kubectl kubeci".
func NewRootCommand(argv0 string, streams genericiooptions.IOStreams) *cobra.Command {
	return newRootCommand(argv0, &Options{IOStreams: streams, ConfigFlags: genericclioptions.NewConfigFlags(true), Clock: clock.RealClock{}})
}

// newRootCommand is NewRootCommand with the options given, such as a fake
// clock.
func newRootCommand(argv0 string, o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:           "kubeci",
		Short:         "Kube CI: event-triggered CI workflows on Kubernetes, and locally",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	if strings.HasPrefix(filepath.Base(argv0), "kubectl-") {
		cmd.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl kubeci"}
	}
	cmd.SetIn(o.In)
	cmd.SetOut(o.Out)
	cmd.SetErr(o.ErrOut)
	o.ConfigFlags.AddFlags(cmd.PersistentFlags())

	cmd.AddCommand(
		newValidateCommand(o),
		newPlanCommand(o),
		newTriggerCommand(o),
		newGetCommand(o),
		newDescribeCommand(o),
		newLogsCommand(o),
		newCancelCommand(o),
		newRerunCommand(o),
		newDashboardCommand(o),
		newWaitCommand(o),
		newVersionCommand(o),
		newRunCommand(o),
	)
	usageErrors(cmd, o.Out, o.ErrOut)
	return cmd
}
