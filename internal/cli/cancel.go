package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/runrequest"
)

func newCancelCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel WORKPLAN...",
		Short: "Stop runs: the operator marks them Failed (Cancelled) and stops their pod, keeping its logs",
		Long: `Cancel runs by setting the Workplan's spec.cancelled. The operator then ends
the run Failed with reason Cancelled and stops the running task's pod: its
containers get their termination grace period, and the pod stays, with its
logs (kubeci logs), until the run is pruned. kubeci wait WORKPLAN returns once
the run has ended. Runs that already ended are left as they are. Needs patch
on workplans (the kubeci-edit role).`,
		Example:           `  kubeci cancel my-workflow-5d8f7c9b2a`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: o.completeMany(kindWorkplan),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.connect()
			if err != nil {
				return err
			}
			for _, name := range args {
				if err := o.cancel(cmd.Context(), c, name); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func (o *Options) cancel(ctx context.Context, c *cluster, name string) error {
	wp := &kubeciv1.Workplan{}
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, wp); err != nil {
		return c.getError(err, "workplan", name)
	}
	switch {
	case wp.Status.Phase.Finished():
		fmt.Fprintf(o.Out, "workplan %s has already ended (%s): nothing to cancel\n", name, wp.Status.Phase)
		return nil
	case wp.Spec.Cancelled:
		fmt.Fprintf(o.Out, "workplan %s is already being cancelled\n", name)
		return nil
	}
	if err := c.Client.Patch(ctx, wp, runrequest.CancelPatch); err != nil {
		return fmt.Errorf("cancelling workplan %s: %w", name, explain(err, c.Host))
	}
	fmt.Fprintf(o.Out, "workplan %s cancelled\n", name)
	return nil
}
