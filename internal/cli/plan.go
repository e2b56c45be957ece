package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
)

func newPlanCommand(o *Options) *cobra.Command {
	var (
		files  []string
		output string
	)
	cmd := &cobra.Command{
		Use:   "plan -f FILE [-o yaml|json]",
		Short: "Print the Workplan the operator would create for a manual run",
		Long: `Resolve each Workflow's step dependencies into ordered tasks and print the
Workplan the operator creates for a manual run, from the same planner the
operator uses: in each task the serial steps run one after another as init
containers, then the parallel steps run together as containers.`,
		Example: `  kubeci plan -f config/samples/kube.ci_v1alpha1_workflow.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "yaml" && output != "json" {
				return fmt.Errorf("unknown output format %q: use yaml or json", output)
			}
			docs, err := o.loadFiles(files)
			if err != nil {
				return err
			}
			failed := false
			for i, d := range docs {
				if d.Err != nil {
					failed = true
					fmt.Fprintf(o.ErrOut, "%s: %v\n", d.Label(), d.Err)
					continue
				}
				wp, err := plan.NewWorkplan(d.Workflow, kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}, "")
				if err != nil {
					failed = true
					for _, e := range checkWorkflow(d.Workflow) {
						fmt.Fprintf(o.ErrOut, "%s: %s\n", d.Label(), plan.FormatError(e))
					}
					continue
				}
				if err := printWorkplan(o, wp, output, i > 0); err != nil {
					return err
				}
			}
			if failed {
				return ExitError{Code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "Workflow file to plan (repeatable; - for standard input)")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "Output format: yaml or json")
	return cmd
}

// printWorkplan prints a Workplan about to be created: without its empty status
// and creation time.
func printWorkplan(o *Options, wp *kubeciv1.Workplan, output string, separate bool) error {
	obj := struct {
		APIVersion string                `json:"apiVersion"`
		Kind       string                `json:"kind"`
		Metadata   metav1.ObjectMeta     `json:"metadata"`
		Spec       kubeciv1.WorkplanSpec `json:"spec"`
	}{wp.APIVersion, wp.Kind, wp.ObjectMeta, wp.Spec}
	if output == "json" {
		out, err := json.MarshalIndent(obj, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(o.Out, "%s\n", out)
		return err
	}
	out, err := marshalYAML(obj)
	if err != nil {
		return err
	}
	if separate {
		fmt.Fprintln(o.Out, "---")
	}
	_, err = o.Out.Write(out)
	return err
}
