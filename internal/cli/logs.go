package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/runlogs"
	"github.com/kubeci/kubeci/internal/steplog"
)

// logRetryDelay is how long `logs -f` waits before asking again for the log
// of a container the kubelet has not started yet.
const logRetryDelay = time.Second

// logsOptions are the flags of `kubeci logs`.
type logsOptions struct {
	step       string
	follow     bool
	timestamps bool
}

func newLogsCommand(o *Options) *cobra.Command {
	l := &logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs WORKPLAN [--step S] [-f] [--timestamps]",
		Short: "Print the logs of a run's steps, in plan order, each line prefixed with its step",
		Long: `Print the logs of a Workplan's steps in plan order, each line prefixed with
the step's name. The logs are read from the containers of the run's task pods
(the pods/log API), so they are there as long as the pods are.

With -f the run is followed: each step's log is printed from the moment its
container starts, task after task; the lines of a task's parallel steps
interleave as they come. It ends when the run ends.`,
		Example: `  kubeci logs my-workflow-5d8f7c9b2a
  kubeci logs my-workflow-5d8f7c9b2a --step step-5 --timestamps
  kubeci logs -f my-workflow-5d8f7c9b2a`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeOne(kindWorkplan),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.connect()
			if err != nil {
				return err
			}
			wp := &kubeciv1.Workplan{}
			if err := c.Client.Get(cmd.Context(), client.ObjectKey{Namespace: c.Namespace, Name: args[0]}, wp); err != nil {
				return c.getError(err, "workplan", args[0])
			}
			steps, err := runlogs.SelectSteps(wp, l.step)
			if err != nil {
				return err
			}
			f := o.logFollower(c, wp, l.timestamps)
			if !l.follow {
				return f.Print(cmd.Context(), wp, steps)
			}
			end, err := o.followRun(cmd.Context(), c, f, wp.Name, steps)
			if err != nil {
				return err
			}
			_ = reportEnd(o.ErrOut, end, o.Clock)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&l.step, "step", "", "Only this step's log")
	f.BoolVarP(&l.follow, "follow", "f", false, "Follow the run until it ends")
	f.BoolVar(&l.timestamps, "timestamps", false, "Start each line with the time it was logged")
	_ = cmd.RegisterFlagCompletionFunc("step", o.completeStep)
	return cmd
}

// logFollower prints wp's logs to the standard output, coloured on a
// terminal.
func (o *Options) logFollower(c *cluster, wp *kubeciv1.Workplan, timestamps bool) *runlogs.Follower {
	var stepNames []string
	for _, ts := range plan.Steps(wp.Spec.Tasks) {
		stepNames = append(stepNames, ts.Step.Name)
	}
	return &runlogs.Follower{
		Streams: runlogs.PodLogs{Pods: c.Kube.CoreV1().Pods(c.Namespace), Timestamps: timestamps,
			Explain: func(err error) error { return explain(err, c.Host) }},
		Out:        runlogs.NewLinePrinter(o.Out, steplog.IsColorTerminal(o.Out), stepNames),
		Notes:      o.ErrOut,
		RetryDelay: logRetryDelay,
		Clock:      o.Clock,
	}
}

// followRun follows the logs of Workplan name while watching it, and returns
// its final state.
func (o *Options) followRun(ctx context.Context, c *cluster, f *runlogs.Follower, name string, steps []plan.TaskStep) (*kubeciv1.Workplan, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	updates := make(chan runlogs.Update)
	go func() {
		defer close(updates)
		err := c.watchWorkplan(ctx, name, func(wp *kubeciv1.Workplan) (bool, error) {
			select {
			case updates <- runlogs.Update{Workplan: wp}:
				return wp == nil, nil
			case <-ctx.Done():
				return true, ctx.Err()
			}
		})
		if err != nil && ctx.Err() == nil {
			select {
			case updates <- runlogs.Update{Err: err}:
			case <-ctx.Done():
			}
		}
	}()
	return f.Follow(ctx, name, updates, steps)
}

// completeStep completes --step with the steps of the Workplan named on the
// command line.
func (o *Options) completeStep(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := o.connect()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	wp := &kubeciv1.Workplan{}
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: args[0]}, wp); err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, ts := range plan.Steps(wp.Spec.Tasks) {
		if strings.HasPrefix(ts.Step.Name, toComplete) {
			out = append(out, ts.Step.Name)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
