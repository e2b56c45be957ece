package cli

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Shell completion of workflow and workplan names, listed from the cluster the
// kubeconfig flags on the command line name. (cobra's own `kubeci completion
// bash|zsh|fish|powershell` prints the scripts that call these.)

// completionTimeout bounds the listing, so a shell never hangs on an
// unreachable cluster.
const completionTimeout = 5 * time.Second

// names lists the names of kind in the namespace, starting with prefix.
func (o *Options) names(k kind, prefix string) []string {
	c, err := o.connect()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	var out []string
	add := func(name string) {
		if strings.HasPrefix(name, prefix) {
			out = append(out, name)
		}
	}
	switch k {
	case kindWorkflow:
		var list kubeciv1.WorkflowList
		if err := c.Client.List(ctx, &list, client.InNamespace(c.Namespace)); err != nil {
			return nil
		}
		for _, wf := range list.Items {
			add(wf.Name)
		}
	case kindWorkplan:
		var list kubeciv1.WorkplanList
		if err := c.Client.List(ctx, &list, client.InNamespace(c.Namespace)); err != nil {
			return nil
		}
		sortWorkplans(list.Items)
		for _, wp := range list.Items {
			add(wp.Name)
		}
	}
	return out
}

// completeOne completes a command's single argument: a name of kind.
func (o *Options) completeOne(k kind) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return o.names(k, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeMany completes arguments that are all names of kind.
func (o *Options) completeMany(k kind) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		var out []string
		for _, name := range o.names(k, toComplete) {
			if !contains(args, name) {
				out = append(out, name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeKindThenNames completes `get` and `describe`: a kind, then names of
// it.
func (o *Options) completeKindThenNames(many bool) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if len(args) == 0 {
			return []string{"workflows", "workplans"}, cobra.ShellCompDirectiveNoFileComp
		}
		k, err := parseKind(args[0])
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if many {
			return o.completeMany(k)(cmd, args[1:], toComplete)
		}
		return o.completeOne(k)(cmd, args[1:], toComplete)
	}
}

func (o *Options) completeGet(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return o.completeKindThenNames(true)(cmd, args, toComplete)
}

// completeWorkflowFlag completes a --workflow flag.
func (o *Options) completeWorkflowFlag(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	return o.names(kindWorkflow, toComplete), cobra.ShellCompDirectiveNoFileComp
}
