package cli

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/runlogs"
)

// Columns of `kubeci get`. Priority 1 columns appear with -o wide only.
var (
	workflowColumns = []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name"},
		{Name: "Ready", Type: "string"},
		{Name: "Triggers", Type: "string"},
		{Name: "Last Run", Type: "string"},
		{Name: "Last Phase", Type: "string"},
		{Name: "Age", Type: "string"},
		{Name: "Last Workplan", Type: "string", Priority: 1},
		{Name: "Reason", Type: "string", Priority: 1},
		{Name: "Service Account", Type: "string", Priority: 1},
	}
	workplanColumns = []metav1.TableColumnDefinition{
		{Name: "Name", Type: "string", Format: "name"},
		{Name: "Workflow", Type: "string"},
		{Name: "Phase", Type: "string"},
		{Name: "Task", Type: "string"},
		{Name: "Trigger", Type: "string"},
		{Name: "Duration", Type: "string"},
		{Name: "Age", Type: "string"},
		{Name: "Node", Type: "string", Priority: 1},
		{Name: "Triggered By", Type: "string", Priority: 1},
		{Name: "Fields", Type: "string", Priority: 1},
		{Name: "Reason", Type: "string", Priority: 1},
	}
)

// maxReasonWidth bounds the reason shown in a table cell.
const maxReasonWidth = 80

// workflowTable is the table of wfs, with the last run of each found in runs.
func workflowTable(clk clock.PassiveClock, wfs []kubeciv1.Workflow, runs *lastRuns) *metav1.Table {
	t := &metav1.Table{ColumnDefinitions: workflowColumns}
	for i := range wfs {
		t.Rows = append(t.Rows, workflowRow(clk, &wfs[i], runs.of(&wfs[i])))
	}
	return t
}

// workflowRow is one Workflow's row; last is its newest Workplan, if any.
func workflowRow(clk clock.PassiveClock, wf *kubeciv1.Workflow, last *kubeciv1.Workplan) metav1.TableRow {
	ready, reason := "Unknown", none
	if c := meta.FindStatusCondition(wf.Status.Conditions, kubeciv1.ConditionReady); c != nil {
		ready, reason = string(c.Status), c.Reason
	}
	lastRun, lastPhase, lastName := none, none, none
	if last != nil {
		lastRun, lastPhase, lastName = age(clk, last.CreationTimestamp), phase(last), last.Name
	}
	return metav1.TableRow{
		Cells: []any{wf.Name, ready, triggersSummary(wf.Spec.Triggers), lastRun, lastPhase, age(clk, wf.CreationTimestamp), lastName, reason,
			wf.Spec.GetServiceAccountName()},
		Object: runtime.RawExtension{Object: wf},
	}
}

// workplanTable is the table of wps.
func workplanTable(clk clock.PassiveClock, wps []kubeciv1.Workplan) *metav1.Table {
	t := &metav1.Table{ColumnDefinitions: workplanColumns}
	for i := range wps {
		t.Rows = append(t.Rows, workplanRow(clk, &wps[i]))
	}
	return t
}

// workplanRow is one Workplan's row.
func workplanRow(clk clock.PassiveClock, wp *kubeciv1.Workplan) metav1.TableRow {
	node := wp.Status.NodeName
	if node == "" {
		node = none
	}
	by := triggeredBy(wp.Spec.Trigger, wp.Namespace)
	if by == "" {
		by = none
	}
	reason := firstLine(wp.Status.Reason, maxReasonWidth)
	if reason == "" {
		reason = none
	}
	fields := strings.Join(fieldLines(wp.Spec.Trigger.Fields, "="), ", ")
	if fields == "" {
		fields = none
	}
	return metav1.TableRow{
		Cells: []any{wp.Name, wp.Spec.Workflow, phase(wp), taskProgress(wp), string(wp.Spec.Trigger.Event),
			runDuration(clk, wp.Status.StartTime, wp.Status.CompletionTime), age(clk, wp.CreationTimestamp), node, by, fields, reason},
		Object: runtime.RawExtension{Object: wp},
	}
}

// phase is a Workplan's phase as users see it: Pending before the operator
// wrote one, Cancelling between a cancel and the run's end (as kubectl shows
// Terminating).
func phase(wp *kubeciv1.Workplan) string { return runlogs.Phase(wp) }

// taskProgress is "i/n": the task running (or where the run ended), counted
// from 1, of n tasks; 0 before the first task starts.
func taskProgress(wp *kubeciv1.Workplan) string {
	current := int(wp.Status.TaskIndex) + 1
	if wp.Status.Phase == "" || (wp.Status.Phase == kubeciv1.WorkplanPending && wp.Status.StartTime == nil) {
		current = 0
	}
	return fmt.Sprintf("%d/%d", current, len(wp.Spec.Tasks))
}

// triggeredBy names the object whose change started a run ("ConfigMap
// my-config", with its namespace when not ns); empty for manual runs.
func triggeredBy(ev kubeciv1.TriggerEvent, ns string) string {
	if ev.Event == kubeciv1.EventManual || ev.Kind == "" {
		return ""
	}
	name := ev.Name
	if name == "" {
		name = "uid:" + string(ev.UID)
	}
	if ev.Namespace != "" && ev.Namespace != ns {
		name = ev.Namespace + "/" + name
	}
	return ev.Kind + "/" + name
}

// fieldLines renders a run's watched field values as "path<sep>value", sorted
// by path: which commit a run built, say.
func fieldLines(fields map[string]string, sep string) []string {
	var out []string
	for _, p := range slices.Sorted(maps.Keys(fields)) {
		out = append(out, p+sep+fields[p])
	}
	return out
}

// triggersSummary lists what a Workflow watches, shortly: "ConfigMap/my-config",
// "Secret(app=web)", "+2" for more than two triggers; <none> when it runs
// only by hand.
func triggersSummary(triggers []kubeciv1.Trigger) string {
	if len(triggers) == 0 {
		return none
	}
	var parts []string
	for i, tr := range triggers {
		if i == 2 {
			parts = append(parts, fmt.Sprintf("+%d", len(triggers)-2))
			break
		}
		parts = append(parts, triggerName(tr))
	}
	return strings.Join(parts, ",")
}

// triggerName is a trigger's kind and what it selects.
func triggerName(tr kubeciv1.Trigger) string {
	kind, which := tr.Target()
	switch {
	case which == "":
		return kind
	case tr.Name != "":
		return kind + "/" + which
	}
	return kind + "(" + which + ")"
}

// firstLine is the first line of s, cut to at most max characters.
func firstLine(s string, max int) string {
	line, rest, _ := strings.Cut(s, "\n")
	if len(line) > max {
		return line[:max-3] + "..."
	}
	if rest != "" {
		return line + " ..."
	}
	return line
}

// lastRuns knows the runs of Workflows, to find each one's newest.
type lastRuns struct {
	runs map[string]map[string]*kubeciv1.Workplan // by namespace/workflow, then name
}

func newLastRuns(wps []kubeciv1.Workplan) *lastRuns {
	r := &lastRuns{runs: map[string]map[string]*kubeciv1.Workplan{}}
	for i := range wps {
		r.add(&wps[i])
	}
	return r
}

func runsKey(namespace, workflow string) string { return namespace + "/" + workflow }

// add records wp, or its new state.
func (r *lastRuns) add(wp *kubeciv1.Workplan) {
	key := runsKey(wp.Namespace, wp.Spec.Workflow)
	if r.runs[key] == nil {
		r.runs[key] = map[string]*kubeciv1.Workplan{}
	}
	r.runs[key][wp.Name] = wp
}

// remove forgets wp.
func (r *lastRuns) remove(wp *kubeciv1.Workplan) {
	delete(r.runs[runsKey(wp.Namespace, wp.Spec.Workflow)], wp.Name)
}

// of returns wf's newest run, nil when it has none.
func (r *lastRuns) of(wf *kubeciv1.Workflow) *kubeciv1.Workplan {
	var last *kubeciv1.Workplan
	for _, wp := range r.runs[runsKey(wf.Namespace, wf.Name)] {
		if last == nil || newer(wp, last) {
			last = wp
		}
	}
	return last
}

// newer orders runs by creation, then by name (creation times have a
// resolution of one second).
func newer(a, b *kubeciv1.Workplan) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	}
	return a.Name > b.Name
}

// sortWorkplans orders runs as tables show them: by namespace, then oldest
// first, so the newest run is at the bottom.
func sortWorkplans(wps []kubeciv1.Workplan) {
	sort.SliceStable(wps, func(i, j int) bool {
		if wps[i].Namespace != wps[j].Namespace {
			return wps[i].Namespace < wps[j].Namespace
		}
		return newer(&wps[j], &wps[i])
	})
}

// sortWorkflows orders Workflows by namespace and name.
func sortWorkflows(wfs []kubeciv1.Workflow) {
	sort.SliceStable(wfs, func(i, j int) bool {
		if wfs[i].Namespace != wfs[j].Namespace {
			return wfs[i].Namespace < wfs[j].Namespace
		}
		return wfs[i].Name < wfs[j].Name
	})
}
