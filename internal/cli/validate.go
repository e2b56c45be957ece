package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kubeci/kubeci/internal/plan"
)

func newValidateCommand(o *Options) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "validate -f FILE [-f FILE ...]",
		Short: "Check Workflow files and print every problem with its field",
		Long: `Check Workflow files without a cluster: step names, images, commands,
dependencies (unknown steps, cycles) and triggers. A file may hold several YAML
documents; "-" reads standard input. Exits 0 when every workflow is valid, else
prints each problem as "FILE: workflow NAME: FIELD: what is wrong" and exits 1.`,
		Example: `  kubeci validate -f config/samples/kube.ci_v1alpha1_workflow.yaml
  cat workflows.yaml | kubeci validate -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			docs, err := o.loadFiles(files)
			if err != nil {
				return err
			}
			failed := false
			for _, d := range docs {
				if d.Err != nil {
					failed = true
					fmt.Fprintf(o.Out, "%s: %v\n", d.Label(), d.Err)
					continue
				}
				errs := checkWorkflow(d.Workflow)
				for _, e := range errs {
					fmt.Fprintf(o.Out, "%s: %s\n", d.Label(), plan.FormatError(e))
				}
				if len(errs) > 0 {
					failed = true
					continue
				}
				tasks, _ := plan.Plan(d.Workflow.Spec.Steps)
				fmt.Fprintf(o.Out, "%s: valid (%s in %s, %s)\n", d.Label(), plan.Count(len(d.Workflow.Spec.Steps), "step"),
					plan.Count(len(tasks), "task"), plan.Count(len(d.Workflow.Spec.Triggers), "trigger"))
			}
			if failed {
				return ExitError{Code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "Workflow file to check (repeatable; - for standard input)")
	return cmd
}
