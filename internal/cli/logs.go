package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
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
			steps, err := selectSteps(wp, l.step)
			if err != nil {
				return err
			}
			f := o.logFollower(c, wp, l.timestamps)
			if !l.follow {
				return f.printLogs(cmd.Context(), wp, steps)
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

// selectSteps returns wp's steps in plan order, or only the one named step.
func selectSteps(wp *kubeciv1.Workplan, step string) ([]plan.TaskStep, error) {
	steps := plan.Steps(wp.Spec.Tasks)
	if step == "" {
		return steps, nil
	}
	var all []string
	for _, ts := range steps {
		if ts.Step.Name == step {
			return []plan.TaskStep{ts}, nil
		}
		all = append(all, ts.Step.Name)
	}
	return nil, fmt.Errorf("workplan %s has no step %q; its steps are: %s", wp.Name, step, strings.Join(all, ", "))
}

// logFollower prints wp's logs to the standard output, coloured on a
// terminal.
func (o *Options) logFollower(c *cluster, wp *kubeciv1.Workplan, timestamps bool) *logFollower {
	var stepNames []string
	for _, ts := range plan.Steps(wp.Spec.Tasks) {
		stepNames = append(stepNames, ts.Step.Name)
	}
	return &logFollower{
		streams:    podLogs{pods: c.Kube.CoreV1().Pods(c.Namespace), timestamps: timestamps, host: c.Host},
		out:        newLinePrinter(o.Out, isColorTerminal(o.Out), stepNames),
		notes:      o.ErrOut,
		retryDelay: logRetryDelay,
		clock:      o.Clock,
	}
}

// followRun follows the logs of Workplan name while watching it, and returns
// its final state.
func (o *Options) followRun(ctx context.Context, c *cluster, f *logFollower, name string, steps []plan.TaskStep) (*kubeciv1.Workplan, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	updates := make(chan runUpdate)
	go func() {
		defer close(updates)
		err := c.watchWorkplan(ctx, name, func(wp *kubeciv1.Workplan) (bool, error) {
			select {
			case updates <- runUpdate{Workplan: wp}:
				return wp == nil, nil
			case <-ctx.Done():
				return true, ctx.Err()
			}
		})
		if err != nil && ctx.Err() == nil {
			select {
			case updates <- runUpdate{Err: err}:
			case <-ctx.Done():
			}
		}
	}()
	return f.followLogs(ctx, name, updates, steps)
}

// podLogs reads container logs through the API server (pods/log), which
// asks the pod's kubelet.
type podLogs struct {
	pods       corev1client.PodInterface
	timestamps bool
	host       string // the API server, for error messages
}

func (p podLogs) Open(ctx context.Context, pod, container string, follow bool) (io.ReadCloser, error) {
	r, err := p.pods.GetLogs(pod, &corev1.PodLogOptions{Container: container, Follow: follow, Timestamps: p.timestamps}).Stream(ctx)
	switch {
	case err == nil:
		return r, nil
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("%w: %v", errPodGone, err)
	case apierrors.IsBadRequest(err) && (strings.Contains(err.Error(), "waiting to start") ||
		strings.Contains(err.Error(), "PodInitializing") || strings.Contains(err.Error(), "ContainerCreating")):
		return nil, fmt.Errorf("%w: %v", errNotStarted, err)
	}
	return nil, explain(err, p.host)
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
