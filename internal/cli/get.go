package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
)

// getOptions are the flags of `kubeci get`.
type getOptions struct {
	output        string
	watch         bool
	allNamespaces bool
	selector      string
	workflow      string
}

func newGetCommand(o *Options) *cobra.Command {
	g := &getOptions{}
	cmd := &cobra.Command{
		Use:   "get workflows|workplans [NAME...] [-o wide|yaml|json|name] [-w] [-A]",
		Short: "List Workflows or Workplans (runs) with their state",
		Long: `List Workflows or Workplans as kubectl does. Workflows show whether they are
Ready, what triggers them and their last run; Workplans (runs) show their
workflow, phase, current task, trigger and duration. -o wide adds columns,
-o yaml|json|name print the objects; -w keeps watching and prints each change.

Short names: wf for workflows, wp for workplans.`,
		Example: `  kubeci get workflows
  kubeci get wp --workflow my-workflow -w
  kubeci get wp my-workflow-5d8f7c9b2a -o yaml
  kubeci get wf -A -o wide`,
		Args:              cobra.MinimumNArgs(1),
		ValidArgsFunction: o.completeGet,
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := parseKind(args[0])
			if err != nil {
				return err
			}
			p, err := newObjectPrinter(o.Out, g.output, g.allNamespaces, o.Clock)
			if err != nil {
				return err
			}
			c, err := o.connect()
			if err != nil {
				return err
			}
			opts, err := g.listOptions(c, kind, args[1:])
			if err != nil {
				return err
			}
			if kind == kindWorkflow {
				return g.getWorkflows(cmd.Context(), o, c, p, args[1:], opts)
			}
			return g.getWorkplans(cmd.Context(), o, c, p, args[1:], opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&g.output, "output", "o", "", "Output format: wide, yaml, json or name (default: a table)")
	f.BoolVarP(&g.watch, "watch", "w", false, "After listing, watch and print each change")
	f.BoolVarP(&g.allNamespaces, "all-namespaces", "A", false, "List across all namespaces")
	f.StringVarP(&g.selector, "selector", "l", "", "Label selector, e.g. kube.ci/workflow=my-workflow")
	f.StringVar(&g.workflow, "workflow", "", "With workplans: only the runs of this Workflow")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"wide", "yaml", "json", "name"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("workflow", o.completeWorkflowFlag)
	return cmd
}

// kind is a Kube CI kind `get`, `describe` and completion know.
type kind string

const (
	kindWorkflow kind = "workflow"
	kindWorkplan kind = "workplan"
)

// parseKind reads a kind the way kubectl does: plural, singular or short name.
func parseKind(s string) (kind, error) {
	switch strings.ToLower(s) {
	case "workflows", "workflow", "wf", "workflows.kube.ci", "workflow.kube.ci":
		return kindWorkflow, nil
	case "workplans", "workplan", "wp", "workplans.kube.ci", "workplan.kube.ci":
		return kindWorkplan, nil
	}
	return "", fmt.Errorf("unknown kind %q: use workflows (wf) or workplans (wp)", s)
}

// listOptions turns the flags into list options.
func (g *getOptions) listOptions(c *cluster, k kind, objNames []string) ([]client.ListOption, error) {
	if g.allNamespaces && len(objNames) > 0 {
		return nil, errors.New("a name cannot be looked up across all namespaces: drop -A and give -n NAMESPACE")
	}
	if g.workflow != "" && k != kindWorkplan {
		return nil, errors.New("--workflow selects workplans: use kubeci get workplans --workflow NAME")
	}
	var opts []client.ListOption
	if !g.allNamespaces {
		opts = append(opts, client.InNamespace(c.Namespace))
	}
	sel, err := labels.Parse(g.selector)
	if err != nil {
		return nil, fmt.Errorf("invalid --selector %q: %w", g.selector, err)
	}
	if g.workflow != "" {
		req, err := labels.NewRequirement(kubeciv1.LabelWorkflow, "=", []string{names.LabelValue(g.workflow)})
		if err != nil {
			return nil, err
		}
		sel = sel.Add(*req)
	}
	if !sel.Empty() {
		opts = append(opts, client.MatchingLabelsSelector{Selector: sel})
	}
	return opts, nil
}

// nothingFound tells on standard error that a list was empty, as kubectl does.
func (g *getOptions) nothingFound(o *Options, c *cluster, plural string) {
	if g.allNamespaces {
		fmt.Fprintf(o.ErrOut, "No %s found.\n", plural)
		return
	}
	fmt.Fprintf(o.ErrOut, "No %s found in namespace %s.\n", plural, c.Namespace)
}

func (g *getOptions) getWorkplans(ctx context.Context, o *Options, c *cluster, p *objectPrinter, names []string, opts []client.ListOption) error {
	if len(names) > 0 {
		var wps []kubeciv1.Workplan
		for _, name := range names {
			wp := &kubeciv1.Workplan{}
			if err := c.Client.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, wp); err != nil {
				return c.getError(err, "workplan", name)
			}
			wps = append(wps, *wp)
		}
		if !g.watch {
			return p.workplans(wps, len(names) == 1)
		}
		return g.watchWorkplans(ctx, c, p, names, opts)
	}
	if g.watch {
		return g.watchWorkplans(ctx, c, p, nil, opts)
	}
	var list kubeciv1.WorkplanList
	if err := c.Client.List(ctx, &list, opts...); err != nil {
		return explain(err, c.Host)
	}
	if len(list.Items) == 0 && p.table != nil {
		g.nothingFound(o, c, "workplans")
		return nil
	}
	sortWorkplans(list.Items)
	return p.workplans(list.Items, false)
}

// watchWorkplans prints the Workplans, then each change; names, when given,
// limit it to those.
func (g *getOptions) watchWorkplans(ctx context.Context, c *cluster, p *objectPrinter, names []string, opts []client.ListOption) error {
	wanted := func(obj runtime.Object) (*kubeciv1.Workplan, bool) {
		wp, ok := obj.(*kubeciv1.Workplan)
		return wp, ok && (len(names) == 0 || contains(names, wp.Name))
	}
	err := c.listAndWatch(ctx, &kubeciv1.WorkplanList{}, opts,
		func(items []runtime.Object) (bool, error) {
			var wps []kubeciv1.Workplan
			for _, item := range items {
				if wp, ok := wanted(item); ok {
					wps = append(wps, *wp)
				}
			}
			sortWorkplans(wps)
			return false, p.workplanChanges(wps)
		},
		func(ev watch.Event) (bool, error) {
			if wp, ok := wanted(ev.Object); ok {
				return false, p.workplanChanges([]kubeciv1.Workplan{*wp})
			}
			return false, nil
		})
	return endOfWatch(ctx, err)
}

func (g *getOptions) getWorkflows(ctx context.Context, o *Options, c *cluster, p *objectPrinter, names []string, opts []client.ListOption) error {
	var wfs []kubeciv1.Workflow
	if len(names) > 0 {
		for _, name := range names {
			wf := &kubeciv1.Workflow{}
			if err := c.Client.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, wf); err != nil {
				return c.getError(err, "workflow", name)
			}
			wfs = append(wfs, *wf)
		}
	} else if !g.watch {
		var list kubeciv1.WorkflowList
		if err := c.Client.List(ctx, &list, opts...); err != nil {
			return explain(err, c.Host)
		}
		wfs = list.Items
		if len(wfs) == 0 && p.table != nil {
			g.nothingFound(o, c, "workflows")
			return nil
		}
	}
	if g.watch {
		return endOfWatch(ctx, g.watchWorkflows(ctx, c, p, names))
	}
	var runs kubeciv1.WorkplanList
	if p.table != nil {
		// The last run of each Workflow: the runs of the same namespaces.
		var nsOpts []client.ListOption
		if !g.allNamespaces {
			nsOpts = append(nsOpts, client.InNamespace(c.Namespace))
		}
		if err := c.Client.List(ctx, &runs, nsOpts...); err != nil {
			return explain(err, c.Host)
		}
	}
	sortWorkflows(wfs)
	return p.workflows(wfs, newLastRuns(runs.Items), len(names) == 1)
}

// endOfWatch is the result of a watch ended by err: interrupting it (the
// context ending) is how a watch normally ends.
func endOfWatch(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return nil
	}
	return err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
