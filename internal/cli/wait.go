package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"

	"github.com/kubeci/kubeci/internal/runlogs"
	"k8s.io/utils/clock"
)

// Exit codes of `kubeci wait` (and of trigger --wait/--logs).
const (
	exitCompleted = 0
	exitFailed    = 1
	exitTimeout   = 2
)

func newWaitCommand(o *Options) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "wait WORKPLAN [--timeout D]",
		Short: "Wait for a run to end; the exit code tells how it ended",
		Long: `Wait until a Workplan (a run) ends, watching it rather than polling, and
print how it ended. Exit codes: 0 when it Completed, 1 when it Failed (a step
failed, or it was cancelled, overdue or lost) or was deleted, 2 when the
timeout passed first. --timeout 0 (the default) waits as long as the run takes.`,
		Example:           `  kubeci wait my-workflow-5d8f7c9b2a --timeout 10m && echo deployed`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeOne(kindWorkplan),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.connect()
			if err != nil {
				return err
			}
			return o.waitAndReport(cmd.Context(), c, args[0], timeout)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "How long to wait (e.g. 30s, 10m); 0 waits until the run ends")
	return cmd
}

// errDeleted says a Workplan was deleted while someone waited for it.
var errDeleted = runlogs.ErrDeleted

// waitForEnd watches Workplan name until it has finished and returns it. seen,
// when not nil, is handed each state on the way (to report a timeout).
func (c *cluster) waitForEnd(ctx context.Context, name string, seen func(*kubeciv1.Workplan)) (*kubeciv1.Workplan, error) {
	var end *kubeciv1.Workplan
	first := true
	err := c.watchWorkplan(ctx, name, func(wp *kubeciv1.Workplan) (bool, error) {
		if wp == nil {
			if first {
				return true, notFound("workplan", name, c.Namespace)
			}
			return true, fmt.Errorf("workplan %s was %w before it ended", name, errDeleted)
		}
		first = false
		if seen != nil {
			seen(wp)
		}
		if wp.Status.Phase.Finished() {
			end = wp
			return true, nil
		}
		return false, nil
	})
	return end, err
}

// waitAndReport waits for Workplan name to end, at most timeout when not 0,
// prints how it ended and returns the ExitError of the outcome.
func (o *Options) waitAndReport(ctx context.Context, c *cluster, name string, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var last *kubeciv1.Workplan
	wp, err := c.waitForEnd(ctx, name, func(wp *kubeciv1.Workplan) { last = wp })
	switch {
	case errors.Is(err, context.DeadlineExceeded) && last != nil:
		fmt.Fprintf(o.ErrOut, "timed out after %s waiting for workplan %s to end: it is %s (task %s)\n",
			timeout, name, phase(last), taskProgress(last))
		return ExitError{Code: exitTimeout}
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(o.ErrOut, "timed out after %s waiting for workplan %s\n", timeout, name)
		return ExitError{Code: exitTimeout}
	case err != nil:
		return err
	}
	return reportEnd(o.Out, wp, o.Clock)
}

// reportEnd prints to w how a finished run ended and returns the ExitError of
// the outcome: nil when it Completed.
func reportEnd(w io.Writer, wp *kubeciv1.Workplan, clk clock.PassiveClock) error {
	took := runDuration(clk, wp.Status.StartTime, wp.Status.CompletionTime)
	if wp.Status.Phase == kubeciv1.WorkplanCompleted {
		fmt.Fprintf(w, "workplan %s Completed in %s\n", wp.Name, took)
		return nil
	}
	reason := wp.Status.Reason
	if reason == "" {
		reason = "no reason recorded"
	}
	if took == none {
		fmt.Fprintf(w, "workplan %s Failed: %s\n", wp.Name, reason)
	} else {
		fmt.Fprintf(w, "workplan %s Failed after %s: %s\n", wp.Name, took, reason)
	}
	return ExitError{Code: exitFailed}
}
