package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
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
	d.section("Tasks", taskTree(clk, wp), none)
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

// taskTree draws the run's tasks and their steps, each step with its kind,
// state, exit code, duration and message:
//
//	STEP       KIND      PHASE      EXIT  DURATION  MESSAGE
//	task 0 (pod my-workflow-x-task-0)
//	├─ step-1  serial    Succeeded  0     3s
//	└─ step-2  parallel  Failed     1     2s        boom
func taskTree(clk clock.PassiveClock, wp *kubeciv1.Workplan) []string {
	status := map[string]*kubeciv1.StepStatus{}
	for i := range wp.Status.Steps {
		status[wp.Status.Steps[i].Name] = &wp.Status.Steps[i]
	}
	rows := [][]string{{"STEP", "KIND", "PHASE", "EXIT", "DURATION", "MESSAGE"}}
	steps := plan.Steps(wp.Spec.Tasks)
	for i, ts := range steps {
		if i == 0 || steps[i-1].Task != ts.Task {
			rows = append(rows, []string{fmt.Sprintf("task %d (pod %s)", ts.Task, names.TaskPod(wp.Name, ts.Task))})
		}
		branch := "├─ "
		if i == len(steps)-1 || steps[i+1].Task != ts.Task {
			branch = "└─ "
		}
		kind := "serial"
		if ts.Parallel {
			kind = "parallel"
		}
		st := status[ts.Step.Name]
		if st == nil {
			st = &kubeciv1.StepStatus{Phase: kubeciv1.StepWaiting}
		}
		exit := ""
		if st.ExitCode != nil {
			exit = strconv.Itoa(int(*st.ExitCode))
		}
		took := ""
		if st.StartTime != nil {
			took = runDuration(clk, st.StartTime, st.FinishTime)
		}
		rows = append(rows, []string{branch + ts.Step.Name, kind, string(st.Phase), exit, took, firstLine(st.Message, 120)})
	}
	return align(rows)
}
