package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/runrequest"
)

// defaultAnswerTimeout is how long trigger waits for the operator to answer
// a run request when no --timeout is given. The operator answers within a
// second when it runs.
const defaultAnswerTimeout = 30 * time.Second

// triggerOptions are the flags of `kubeci trigger`.
type triggerOptions struct {
	wait    bool
	logs    bool
	timeout time.Duration
}

func newTriggerCommand(o *Options) *cobra.Command {
	t := &triggerOptions{}
	cmd := &cobra.Command{
		Use:   "trigger WORKFLOW [--wait] [--logs] [--timeout D]",
		Short: "Start a run of a Workflow by hand and print its Workplan's name",
		Long: `Ask the operator for a manual run of a Workflow's current steps, and print
the name of the Workplan it starts. kubeci does not create the Workplan itself:
it sets a new kube.ci/run-request annotation on the Workflow and the operator
answers with one run, under the Workflow's ServiceAccount. So anyone allowed
to trigger a Workflow can run exactly what it holds, nothing else.

When the Workflow is invalid the operator refuses: the Workflow's Ready
message is printed and the exit code is 1.

--wait waits for the run to end (exit codes as kubeci wait: 0 Completed,
1 Failed, 2 timed out); --logs also follows its logs as kubeci logs -f does.
--timeout bounds everything trigger waits for; without it the operator must
answer within 30s, and the run may take as long as it takes.`,
		Example: `  kubeci trigger my-workflow
  kubeci trigger my-workflow --logs
  kubeci trigger my-workflow --wait --timeout 15m`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: o.completeOne(kindWorkflow),
		RunE: func(cmd *cobra.Command, args []string) error {
			return t.run(cmd.Context(), o, args[0])
		},
	}
	t.addFlags(cmd)
	return cmd
}

// addFlags adds the flags trigger and rerun share.
func (t *triggerOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&t.wait, "wait", false, "Wait for the run to end; the exit code tells how it ended")
	f.BoolVar(&t.logs, "logs", false, "Follow the run's logs until it ends (implies --wait)")
	f.DurationVar(&t.timeout, "timeout", 0, "How long to wait in all (for the operator's answer and, with --wait or --logs, the run)")
}

func (t *triggerOptions) run(ctx context.Context, o *Options, workflow string) error {
	c, err := o.connect()
	if err != nil {
		return err
	}
	return t.ask(ctx, o, c, runrequest.Run, workflow, runrequest.NewID())
}

// ask asks for a run of workflow with request req of kind k, prints the
// started Workplan's name, then waits or follows its logs as the flags say.
func (t *triggerOptions) ask(ctx context.Context, o *Options, c *cluster, k runrequest.Kind, workflow, req string) error {
	if t.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.timeout)
		defer cancel()
	}
	answerTimeout := t.timeout
	if answerTimeout == 0 {
		answerTimeout = defaultAnswerTimeout
	}
	actx, cancel := context.WithTimeout(ctx, answerTimeout)
	defer cancel()

	wp, err := c.requestRun(actx, k, workflow, req)
	var (
		rejected rejectedError
		pending  pendingError
	)
	switch {
	case errors.As(err, &rejected):
		fmt.Fprintln(o.ErrOut, rejected.Error())
		return ExitError{Code: exitFailed}
	case errors.As(err, &pending):
		fmt.Fprintf(o.ErrOut, "workflow %s still holds run request %s, which the operator has not answered within %s: is the operator running?\n"+
			"kubeci %s asks for a run only once the request before has been answered, so that neither is lost.\n", workflow, pending.request, answerTimeout, commandOf(k))
		return ExitError{Code: exitTimeout}
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(o.ErrOut, "no answer to run request %s on workflow %s within %s: is the operator running?\n"+
			"The request stays on the Workflow: the operator starts the run when it is back. To withdraw it:\n"+
			"  kubectl annotate -n %s workflow %s %s-\n", req, workflow, answerTimeout, c.Namespace, workflow, k.Annotation)
		return ExitError{Code: exitTimeout}
	case err != nil:
		return err
	}
	fmt.Fprintln(o.Out, wp.Name)

	switch {
	case t.logs:
		f := o.logFollower(c, wp, false)
		end, err := o.followRun(ctx, c, f, wp.Name, plan.Steps(wp.Spec.Tasks))
		if errors.Is(err, context.DeadlineExceeded) {
			fmt.Fprintf(o.ErrOut, "timed out after %s following workplan %s\n", t.timeout, wp.Name)
			return ExitError{Code: exitTimeout}
		}
		if err != nil {
			return err
		}
		return reportEnd(o.Out, end, o.Clock)
	case t.wait:
		return o.waitAndReport(ctx, c, wp.Name, t.timeout)
	}
	return nil
}

// commandOf is the kubeci command that writes requests of kind k.
func commandOf(k runrequest.Kind) string {
	if k.Annotation == runrequest.Rerun.Annotation {
		return "rerun"
	}
	return "trigger"
}

// pendingError says that an earlier run request was still unanswered when
// the time to wait ran out.
type pendingError struct{ request string }

func (e pendingError) Error() string { return "run request " + e.request + " is still pending" }

// rejectedError is the operator's refusal of a run request.
type rejectedError struct {
	workflow, reason, message string
	// rerun is the refused rerun request, if it was one.
	rerun string
}

func (e rejectedError) Error() string {
	if e.rerun != "" {
		return rerunRefusal(e.workflow, e.rerun)
	}
	return fmt.Sprintf("workflow %s did not start a run: it is not Ready (%s):\n  %s\nFix the Workflow (kubeci validate -f FILE checks a file) and trigger it again.",
		e.workflow, e.reason, strings.ReplaceAll(strings.TrimRight(e.message, "\n"), "\n", "\n  "))
}

// requestRun asks the operator, with a request of kind k and value req, for a
// run of workflow and returns the Workplan it started. A request someone else
// made that the operator has not answered yet is left alone: req is written
// once the operator has answered it, so that no request replaces another
// unseen.
func (c *cluster) requestRun(ctx context.Context, k runrequest.Kind, workflow, req string) (*kubeciv1.Workplan, error) {
	for {
		wf := &kubeciv1.Workflow{}
		if err := c.Client.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: workflow}, wf); err != nil {
			return nil, c.getError(err, "workflow", workflow)
		}
		if pending := k.Pending(wf); pending != "" {
			err := c.watchWorkflow(ctx, workflow, func(wf *kubeciv1.Workflow) bool { return k.Pending(wf) != pending })
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, pendingError{request: pending}
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		err := c.Client.Patch(ctx, wf, k.Patch(wf.ResourceVersion, req))
		if apierrors.IsConflict(err) {
			continue // the Workflow changed since it was read: look again
		}
		if err != nil {
			return nil, fmt.Errorf("asking for a run of workflow %s: %w", workflow, explain(err, c.Host))
		}
		return c.awaitAnswer(ctx, k, workflow, req)
	}
}

// awaitAnswer waits until the operator has answered request req of kind k on
// workflow and returns the Workplan it started, or a rejectedError. The
// operator creates the Workplan (labelled with the request) before it records
// the request as handled, so a handled request without a Workplan is a
// refusal.
func (c *cluster) awaitAnswer(ctx context.Context, k runrequest.Kind, workflow, req string) (*kubeciv1.Workplan, error) {
	var answered *kubeciv1.Workflow
	err := c.watchWorkflow(ctx, workflow, func(wf *kubeciv1.Workflow) bool {
		if k.Handled(wf) == req || wf.Annotations[k.Annotation] != req {
			answered = wf
			return true
		}
		return false
	})
	if err != nil {
		return nil, err
	}
	var runs kubeciv1.WorkplanList
	if err := c.Client.List(ctx, &runs, client.InNamespace(c.Namespace),
		client.MatchingLabels{kubeciv1.LabelRunRequest: names.RunRequest(req)}); err != nil {
		return nil, explain(err, c.Host)
	}
	for i := range runs.Items {
		if runs.Items[i].Spec.Workflow == workflow {
			return &runs.Items[i], nil
		}
	}
	if k.Handled(answered) != req {
		return nil, fmt.Errorf("run request %s on workflow %s was replaced by %q before the operator saw it; trigger again",
			req, workflow, answered.Annotations[kubeciv1.AnnotationRunRequest])
	}
	if k.Annotation == runrequest.Rerun.Annotation {
		return nil, rejectedError{workflow: workflow, rerun: req}
	}
	rej := rejectedError{workflow: workflow, reason: "no Ready condition", message: "see kubeci describe workflow " + workflow}
	if cond := meta.FindStatusCondition(answered.Status.Conditions, kubeciv1.ConditionReady); cond != nil {
		rej.reason, rej.message = cond.Reason, cond.Message
	}
	return nil, rej
}

// watchWorkflow watches Workflow name until done says so; it fails when the
// Workflow is deleted.
func (c *cluster) watchWorkflow(ctx context.Context, name string, isDone func(*kubeciv1.Workflow) bool) error {
	done := func(wf *kubeciv1.Workflow) bool { return c.waitingAfter(wf, isDone(wf)) }
	opts := []client.ListOption{client.InNamespace(c.Namespace),
		client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", name)}}
	gone := fmt.Errorf("workflow %s was deleted", name)
	return c.listAndWatch(ctx, &kubeciv1.WorkflowList{}, opts,
		func(items []runtime.Object) (bool, error) {
			for _, item := range items {
				if wf, ok := item.(*kubeciv1.Workflow); ok {
					return done(wf), nil
				}
			}
			return true, gone
		},
		func(ev watch.Event) (bool, error) {
			wf, ok := ev.Object.(*kubeciv1.Workflow)
			switch {
			case !ok:
				return false, nil
			case ev.Type == watch.Deleted:
				return true, gone
			}
			return done(wf), nil
		})
}
