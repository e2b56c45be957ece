package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/runrequest"
)

// recentRuns is how many of a Workflow's newest runs its description lists.
const recentRuns = 5

func describeWorkflow(ctx context.Context, c *cluster, w io.Writer, name string, clk clock.PassiveClock) error {
	wf := &kubeciv1.Workflow{}
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, wf); err != nil {
		return c.getError(err, "workflow", name)
	}
	var runs kubeciv1.WorkplanList
	if err := c.Client.List(ctx, &runs, client.InNamespace(c.Namespace),
		client.MatchingLabels{kubeciv1.LabelWorkflow: names.LabelValue(wf.Name)}); err != nil {
		return explain(err, c.Host)
	}
	evs, evErr := c.eventsAbout(ctx, []objectRef{{Kind: "Workflow", Name: wf.Name}})

	d := &description{}
	d.field("Name", wf.Name)
	d.field("Namespace", wf.Namespace)
	ready := condition(wf.Status.Conditions, kubeciv1.ConditionReady)
	if ready.Type == "" {
		d.field("Ready", "Unknown (the operator has not looked at it yet)")
	} else {
		d.field("Ready", fmt.Sprintf("%s (%s)", ready.Status, ready.Reason))
		d.field("Message", ready.Message)
	}
	d.field("Service Account", wf.Spec.GetServiceAccountName())
	if s := wf.Spec.ActiveDeadlineSeconds; s != nil {
		d.field("Deadline", (time.Duration(*s) * time.Second).String())
	}
	d.field("History", fmt.Sprintf("keeps %d completed and %d failed runs",
		wf.Spec.GetSuccessfulRunsHistoryLimit(), wf.Spec.GetFailedRunsHistoryLimit()))
	if req := wf.Status.LastHandledRunRequest; req != "" {
		d.field("Last Run Request", req)
	}
	if req := runrequest.Run.Pending(wf); req != "" {
		d.field("Pending Run Request", req+" (the operator has not answered it yet)")
	}
	d.field("Created", timestamp(clk, &wf.CreationTimestamp))
	d.section("Triggers", triggerLines(wf), "<none> (runs only when triggered by hand: kubeci trigger "+wf.Name+")")
	d.section("Steps", stepLines(wf.Spec.Steps), none)
	d.section("Plan", planTree(wf), none)
	sortWorkplans(runs.Items)
	if n := len(runs.Items); n > recentRuns {
		runs.Items = runs.Items[n-recentRuns:]
	}
	d.section("Recent Runs", runLines(clk, runs.Items), none)
	d.section("Events", eventLines(clk, evs), eventsMissing(evErr))
	return d.writeTo(w)
}

// triggerLines are the rows of a Workflow's Triggers section.
func triggerLines(wf *kubeciv1.Workflow) []string {
	if len(wf.Spec.Triggers) == 0 {
		return nil
	}
	rows := [][]string{{"KIND", "API VERSION", "NAMESPACE", "NAME", "SELECTOR", "ON"}}
	for _, tr := range wf.Spec.Triggers {
		kind := tr.Kind
		if kind == "" {
			kind = tr.Resource
		}
		ns, name, sel := tr.Namespace, tr.Name, "<all>"
		if ns == "" {
			ns = wf.Namespace
		}
		if name == "" {
			name = "<any>"
		}
		if tr.Selector != nil && (len(tr.Selector.MatchLabels) > 0 || len(tr.Selector.MatchExpressions) > 0) {
			sel = metav1.FormatLabelSelector(tr.Selector)
		}
		var on []string
		if tr.OnAddOrUpdate {
			on = append(on, "add/update")
		}
		if tr.OnDelete {
			on = append(on, "delete")
		}
		if len(on) == 0 {
			on = append(on, none)
		}
		rows = append(rows, []string{kind, tr.APIVersion, ns, name, sel, strings.Join(on, ",")})
	}
	return align(rows)
}

// stepLines are the rows of a Workflow's Steps section.
func stepLines(steps []kubeciv1.Step) []string {
	rows := [][]string{{"NAME", "IMAGE", "AFTER", "COMMAND"}}
	for _, s := range steps {
		after := strings.Join(s.Dependency, ",")
		if after == "" {
			after = none
		}
		rows = append(rows, []string{s.Name, s.Image, after, commandLine(s)})
	}
	return align(rows)
}

// commandLine is a step's command and arguments as a shell would read them.
func commandLine(s kubeciv1.Step) string {
	var words []string
	for _, w := range append(append([]string(nil), s.Commands...), s.Args...) {
		if w == "" || strings.ContainsAny(w, " \t\n\"'$\\;&|<>*?()") {
			w = strconv.Quote(w)
		}
		words = append(words, w)
	}
	if len(words) == 0 {
		return "<image entrypoint>"
	}
	return firstLine(strings.Join(words, " "), 100)
}

// planTree draws the tasks the operator plans the Workflow's steps into; an
// invalid Workflow has no plan (its Ready message says why).
func planTree(wf *kubeciv1.Workflow) []string {
	if errs := plan.Validate(wf); len(errs) > 0 {
		return []string{"<none>: the workflow is invalid (its Ready message says why)"}
	}
	tasks, err := plan.Plan(wf.Spec.Steps)
	if err != nil {
		return []string{"<none>: " + err.Error()}
	}
	var rows []treeRow
	for _, ts := range plan.Steps(tasks) {
		rows = append(rows, treeRow{Task: ts.Task, Name: ts.Step.Name, Cells: []string{kindOf(ts.Parallel)}})
	}
	return align(treeRows(nil, rows, taskHeading))
}

// runLines are the rows of a Workflow's Recent Runs section.
func runLines(clk clock.PassiveClock, wps []kubeciv1.Workplan) []string {
	if len(wps) == 0 {
		return nil
	}
	rows := [][]string{{"NAME", "PHASE", "TASK", "TRIGGER", "DURATION", "AGE"}}
	for i := range wps {
		wp := &wps[i]
		rows = append(rows, []string{wp.Name, phase(wp), taskProgress(wp), string(wp.Spec.Trigger.Event),
			runDuration(clk, wp.Status.StartTime, wp.Status.CompletionTime), age(clk, wp.CreationTimestamp)})
	}
	return align(rows)
}
