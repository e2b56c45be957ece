package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"

	"k8s.io/utils/clock"
)

func describeWorkplan(ctx context.Context, c *cluster, w io.Writer, name string, clk clock.PassiveClock) error {
	wp := &kubeciv1.Workplan{}
	if err := c.Client.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: name}, wp); err != nil {
		return c.getError(err, "workplan", name)
	}
	refs := []objectRef{{Kind: "Workplan", Name: wp.Name}}
	for i := range wp.Spec.Tasks {
		refs = append(refs, objectRef{Kind: "Pod", Name: names.TaskPod(wp.Name, i)})
	}
	refs = append(refs, objectRef{Kind: "Pod", Name: names.CleanupPod(wp.Name)})
	evs, evErr := c.eventsAbout(ctx, refs)

	d := &description{}
	d.field("Name", wp.Name)
	d.field("Namespace", wp.Namespace)
	d.field("Workflow", wp.Spec.Workflow)
	d.field("Trigger", triggerText(wp.Spec.Trigger, wp.Namespace))
	if len(wp.Spec.Trigger.Fields) > 0 {
		d.field("Fields", strings.Join(fieldLines(wp.Spec.Trigger.Fields, ": "), "\n"))
	}
	if tr := wp.Spec.Trigger; tr.Object != "" {
		obj := fmt.Sprintf("%d bytes, in the file $%s", len(tr.Object), kubeciv1.EnvTriggerObject)
		if tr.ObjectReduced != "" {
			obj += "; " + tr.ObjectReduced
		}
		d.field("Trigger Object", obj)
	}
	d.field("Phase", phase(wp))
	if wp.Status.Reason != "" {
		d.field("Reason", wp.Status.Reason)
	}
	if wp.Spec.Cancelled {
		d.field("Cancelled", "true")
	}
	d.field("Task", taskProgress(wp))
	d.field("Node", wp.Status.NodeName)
	d.field("Service Account", wp.Spec.GetServiceAccountName())
	if s := wp.Spec.ActiveDeadlineSeconds; s != nil {
		d.field("Deadline", (time.Duration(*s) * time.Second).String())
	}
	d.field("Created", timestamp(clk, &wp.CreationTimestamp))
	d.field("Started", timestamp(clk, wp.Status.StartTime))
	d.field("Finished", timestamp(clk, wp.Status.CompletionTime))
	d.field("Duration", runDuration(clk, wp.Status.StartTime, wp.Status.CompletionTime))
	d.section("Tasks", workplanTree(clk, wp), none)
	d.section("Conditions", conditionLines(clk, wp.Status.Conditions), none)
	d.section("Events", eventLines(clk, evs), eventsMissing(evErr))
	return d.writeTo(w)
}

// triggerText says what started a run: "Manual", or the event and the object
// ("Updated ConfigMap/my-config (resourceVersion 42)").
func triggerText(ev kubeciv1.TriggerEvent, ns string) string {
	by := triggeredBy(ev, ns)
	if by == "" {
		return string(ev.Event)
	}
	s := string(ev.Event) + " " + by
	if ev.ResourceVersion != "" {
		s += " (resourceVersion " + ev.ResourceVersion + ")"
	}
	return s
}

// workplanTree draws the run's tasks and steps (see taskTree), each task
// with its pod, steps not yet in the status Waiting.
func workplanTree(clk clock.PassiveClock, wp *kubeciv1.Workplan) []string {
	status := map[string]*kubeciv1.StepStatus{}
	for i := range wp.Status.Steps {
		status[wp.Status.Steps[i].Name] = &wp.Status.Steps[i]
	}
	var steps []treeStep
	for _, ts := range plan.Steps(wp.Spec.Tasks) {
		st := kubeciv1.StepStatus{Phase: kubeciv1.StepWaiting}
		if s := status[ts.Step.Name]; s != nil {
			st = *s
		}
		st.Name, st.Task = ts.Step.Name, int32(ts.Task)
		took := ""
		if st.StartTime != nil {
			took = runDuration(clk, st.StartTime, st.FinishTime)
		}
		steps = append(steps, treeStep{StepStatus: st, Parallel: ts.Parallel, Duration: took})
	}
	return taskTree(steps, func(task int) string {
		return fmt.Sprintf("%s (pod %s)", taskHeading(task), names.TaskPod(wp.Name, task))
	})
}
