package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/runrequest"
)

func newRerunCommand(o *Options) *cobra.Command {
	t := &triggerOptions{}
	cmd := &cobra.Command{
		Use:   "rerun WORKPLAN [--wait] [--logs] [--timeout D]",
		Short: "Run a run again: the same trigger event and steps, as a new Workplan",
		Long: `Ask the operator to run a Workplan again and print the new Workplan's name.
The rerun has the original run's trigger event (the same object, so the same
commit) and the original's tasks, not the Workflow's current steps: a rerun
repeats a run exactly, so that a flaky failure can be told from a real one.
To run what the Workflow holds now, use kubeci trigger.

As with trigger, kubeci does not create the Workplan: it sets a new
kube.ci/rerun-request annotation on the run's Workflow
("<workplan>/<id>") and the operator answers with one run, recorded on it in
spec.rerunOf and the kube.ci/rerun-of label. Needs patch on workflows.

--wait, --logs and --timeout work as for kubeci trigger.`,
		Example: `  kubeci rerun my-workflow-5d8f7c9b2a
  kubeci rerun my-workflow-5d8f7c9b2a --logs`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeOne(kindWorkplan),
		RunE: func(cmd *cobra.Command, args []string) error {
			return t.rerun(cmd.Context(), o, args[0])
		},
	}
	t.addFlags(cmd)
	return cmd
}

// rerun asks for a rerun of Workplan name, then waits as trigger does.
func (t *triggerOptions) rerun(ctx context.Context, o *Options, name string) error {
	c, err := o.connect()
	if err != nil {
		return err
	}
	wp := &kubeciv1.Workplan{}
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, wp); err != nil {
		return c.getError(err, "workplan", name)
	}
	req := runrequest.RerunValue(name, runrequest.NewID())
	return t.ask(ctx, o, c, runrequest.Rerun, wp.Spec.Workflow, req)
}

// rerunRefusal explains a refused rerun request.
func rerunRefusal(workflow, req string) string {
	return fmt.Sprintf("workflow %s did not start a rerun for request %s: the run may have been deleted meanwhile "+
		"(kubeci describe workflow %s shows the operator's event saying why)", workflow, req, workflow)
}
