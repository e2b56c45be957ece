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
			var plans []any
			for _, d := range docs {
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
				plans = append(plans, workplanToCreate(wp))
			}
			if err := printWorkplans(o, plans, output); err != nil {
				return err
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

// workplanToCreate is a Workplan about to be created: without its empty
// status and creation time.
func workplanToCreate(wp *kubeciv1.Workplan) any {
	return struct {
		APIVersion string                `json:"apiVersion"`
		Kind       string                `json:"kind"`
		Metadata   metav1.ObjectMeta     `json:"metadata"`
		Spec       kubeciv1.WorkplanSpec `json:"spec"`
	}{wp.APIVersion, wp.Kind, wp.ObjectMeta, wp.Spec}
}

// printWorkplans prints the plans as YAML documents, or as JSON: one object,
// or, for several, a List as kubectl prints one (valid JSON either way).
func printWorkplans(o *Options, plans []any, output string) error {
	if output == "json" {
		var obj any
		switch len(plans) {
		case 0:
			return nil
		case 1:
			obj = plans[0]
		default:
			obj = map[string]any{"apiVersion": "v1", "kind": "List", "items": plans}
		}
		out, err := json.MarshalIndent(obj, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(o.Out, "%s\n", out)
		return err
	}
	for i, p := range plans {
		out, err := marshalYAML(p)
		if err != nil {
			return err
		}
		if i > 0 {
			fmt.Fprintln(o.Out, "---")
		}
		if _, err := o.Out.Write(out); err != nil {
			return err
		}
	}
	return nil
}
