package dashboard

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/runlogs"
)

// What the pages show, decided from plain objects and the time: no I/O here,
// so that every rule is table-tested (views_test.go).

// phases lists the Workplan phases in the order the pages count them.
var phases = []string{"Pending", "Running", "Cancelling", "Completed", "Failed"}

// workflowRow is one line of the Workflows page.
type workflowRow struct {
	Namespace, Name string
	Ready           string // True, False or Unknown
	ReadyReason     string
	Message         string
	Triggers        []string
	LastRun         string
	LastPhase       string
	LastAge         string
	Counts          []phaseCount
}

// phaseCount is how many runs are in a phase.
type phaseCount struct {
	Phase string
	N     int
}

// workflowRows builds the Workflows page's lines from the Workflows and their
// runs, sorted by namespace and name.
func workflowRows(wfs []kubeciv1.Workflow, wps []kubeciv1.Workplan, now time.Time) []workflowRow {
	byWorkflow := map[string][]*kubeciv1.Workplan{}
	for i := range wps {
		key := wps[i].Namespace + "/" + wps[i].Spec.Workflow
		byWorkflow[key] = append(byWorkflow[key], &wps[i])
	}
	rows := make([]workflowRow, 0, len(wfs))
	for i := range wfs {
		wf := &wfs[i]
		row := workflowRow{Namespace: wf.Namespace, Name: wf.Name, Ready: "Unknown"}
		if c := meta.FindStatusCondition(wf.Status.Conditions, kubeciv1.ConditionReady); c != nil {
			row.Ready, row.ReadyReason, row.Message = string(c.Status), c.Reason, c.Message
		}
		for _, tr := range wf.Spec.Triggers {
			row.Triggers = append(row.Triggers, triggerTarget(tr))
		}
		counts := map[string]int{}
		var last *kubeciv1.Workplan
		for _, wp := range byWorkflow[wf.Namespace+"/"+wf.Name] {
			counts[runlogs.Phase(wp)]++
			if last == nil || newerRun(wp, last) {
				last = wp
			}
		}
		for _, p := range phases {
			if counts[p] > 0 {
				row.Counts = append(row.Counts, phaseCount{p, counts[p]})
			}
		}
		if last != nil {
			row.LastRun, row.LastPhase, row.LastAge = last.Name, runlogs.Phase(last), ago(last.CreationTimestamp, now)
		}
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Namespace != rows[j].Namespace {
			return rows[i].Namespace < rows[j].Namespace
		}
		return rows[i].Name < rows[j].Name
	})
	return rows
}

// newerRun reports whether a was created after b (by time, then name, as
// names of one second carry no order).
func newerRun(a, b *kubeciv1.Workplan) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	}
	return a.Name > b.Name
}

// triggerTarget says shortly what a trigger watches: "ConfigMap my-config",
// "Secret app=web", "Deployment (all)".
func triggerTarget(tr kubeciv1.Trigger) string {
	kind, which := tr.Target()
	if which == "" {
		which = "(all)"
	}
	return kind + " " + which
}

// triggerView is one trigger on a Workflow's page.
type triggerView struct {
	Kind, APIVersion, Namespace, Which, On string
}

func triggerViews(wf *kubeciv1.Workflow) []triggerView {
	var out []triggerView
	for _, tr := range wf.Spec.Triggers {
		v := triggerView{Kind: tr.Kind, APIVersion: tr.APIVersion, Namespace: tr.Namespace, Which: "every object"}
		if v.Kind == "" {
			v.Kind = tr.Resource
		}
		if v.Namespace == "" {
			v.Namespace = wf.Namespace
		}
		switch {
		case tr.Name != "":
			v.Which = "named " + tr.Name
		case tr.Selector != nil && (len(tr.Selector.MatchLabels) > 0 || len(tr.Selector.MatchExpressions) > 0):
			v.Which = "labelled " + metav1.FormatLabelSelector(tr.Selector)
		}
		var on []string
		if tr.OnAddOrUpdate {
			on = append(on, "created or changed")
		}
		if tr.OnDelete {
			on = append(on, "deleted")
		}
		v.On = strings.Join(on, ", ")
		if v.On == "" {
			v.On = "never (neither onAddOrUpdate nor onDelete)"
		}
		out = append(out, v)
	}
	return out
}

// stepView is one step of a Workflow's page.
type stepView struct {
	Name, Image, Command, WorkingDir string
	Dependency                       []string
	Env                              []string
}

func stepViews(steps []kubeciv1.Step) []stepView {
	out := make([]stepView, 0, len(steps))
	for _, s := range steps {
		v := stepView{Name: s.Name, Image: s.Image, WorkingDir: s.WorkingDir, Dependency: s.Dependency,
			Command: strings.Join(append(append([]string{}, s.Commands...), s.Args...), " ")}
		for _, e := range s.Env {
			v.Env = append(v.Env, envText(e))
		}
		out = append(out, v)
	}
	return out
}

// envText shows an env entry: a plain value as it is written in the spec, a
// valueFrom only by its reference, never the value it resolves to.
func envText(e corev1.EnvVar) string {
	vf := e.ValueFrom
	switch {
	case vf == nil:
		return e.Name + "=" + e.Value
	case vf.SecretKeyRef != nil:
		return fmt.Sprintf("%s from Secret %s, key %s", e.Name, vf.SecretKeyRef.Name, vf.SecretKeyRef.Key)
	case vf.ConfigMapKeyRef != nil:
		return fmt.Sprintf("%s from ConfigMap %s, key %s", e.Name, vf.ConfigMapKeyRef.Name, vf.ConfigMapKeyRef.Key)
	case vf.FieldRef != nil:
		return fmt.Sprintf("%s from field %s", e.Name, vf.FieldRef.FieldPath)
	case vf.ResourceFieldRef != nil:
		return fmt.Sprintf("%s from resource %s", e.Name, vf.ResourceFieldRef.Resource)
	}
	return e.Name + " from a reference"
}

// specError is one problem of an invalid Workflow, with its field.
type specError struct{ Field, Message string }

func specErrors(wf *kubeciv1.Workflow) []specError {
	var out []specError
	for _, e := range plan.Validate(wf) {
		out = append(out, specError{Field: e.Field, Message: strings.TrimPrefix(e.ErrorBody(), e.Type.String()+": ")})
	}
	return out
}

// conditionView is one condition.
type conditionView struct {
	Type, Status, Reason, Message, Age string
}

func conditionViews(conds []metav1.Condition, now time.Time) []conditionView {
	var out []conditionView
	for _, c := range conds {
		out = append(out, conditionView{Type: c.Type, Status: string(c.Status), Reason: c.Reason, Message: c.Message,
			Age: ago(c.LastTransitionTime, now)})
	}
	return out
}

// runRow is one run in a list of runs.
type runRow struct {
	Name, Phase, Trigger, Age, Duration, Reason, RerunOf string
}

func runRows(wps []kubeciv1.Workplan, now time.Time, limit int) []runRow {
	sorted := make([]*kubeciv1.Workplan, len(wps))
	for i := range wps {
		sorted[i] = &wps[i]
	}
	sort.Slice(sorted, func(i, j int) bool { return newerRun(sorted[i], sorted[j]) })
	if len(sorted) > limit {
		sorted = sorted[:limit]
	}
	out := make([]runRow, 0, len(sorted))
	for _, wp := range sorted {
		out = append(out, runRow{Name: wp.Name, Phase: runlogs.Phase(wp), Trigger: triggerSummary(wp.Spec.Trigger),
			Age: ago(wp.CreationTimestamp, now), Duration: took(wp.Status.StartTime, wp.Status.CompletionTime, now),
			Reason: wp.Status.Reason, RerunOf: wp.Spec.RerunOf})
	}
	return out
}

// triggerSummary says what started a run: "Manual", "Updated ConfigMap my-config".
func triggerSummary(ev kubeciv1.TriggerEvent) string {
	if ev.Event == kubeciv1.EventManual || ev.Kind == "" {
		return string(ev.Event)
	}
	name := ev.Name
	if name == "" {
		name = "uid " + string(ev.UID)
	}
	return fmt.Sprintf("%s %s %s", ev.Event, ev.Kind, name)
}

// field is a name and a value, in the order shown.
type field struct{ Name, Value string }

// triggerFields lists every field of a run's spec.trigger as recorded, nested
// maps flattened ("fields.revision"): whatever the trigger records, including
// fields added to TriggerEvent later, is shown without the page knowing them.
func triggerFields(ev kubeciv1.TriggerEvent) []field {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil
	}
	var out []field
	flatten("", m, &out)
	sort.SliceStable(out, func(i, j int) bool { return fieldRank(out[i].Name) < fieldRank(out[j].Name) })
	return out
}

// fieldOrder puts the fields people look for first.
var fieldOrder = []string{"event", "kind", "namespace", "name", "apiVersion"}

func fieldRank(name string) int {
	for i, f := range fieldOrder {
		if f == name {
			return i
		}
	}
	return len(fieldOrder)
}

func flatten(prefix string, m map[string]any, out *[]field) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := m[k].(type) {
		case map[string]any:
			flatten(prefix+k+".", v, out)
		case string:
			*out = append(*out, field{prefix + k, v})
		default:
			data, _ := json.Marshal(v)
			*out = append(*out, field{prefix + k, string(data)})
		}
	}
}

// stepState is a step's state on a run's graph.
type stepState struct{ Phase, Detail string }

// stepRow is one step in a run's table of steps.
type stepRow struct {
	Name, Kind, Phase, Exit, Duration, Message string
	Task                                       int
}

// runView is a run's page, apart from its graph and logs.
type runView struct {
	Namespace, Name, Workflow, Phase, Reason, Node, Pod string
	Created, Started, Finished, Duration, RerunOf       string
	ServiceAccount                                      string
	Trigger                                             []field
	Steps                                               []stepRow
	States                                              map[string]stepState
	Ended                                               bool
	Cancellable                                         bool
}

func newRunView(wp *kubeciv1.Workplan, now time.Time) runView {
	v := runView{Namespace: wp.Namespace, Name: wp.Name, Workflow: wp.Spec.Workflow, Phase: runlogs.Phase(wp),
		Reason: wp.Status.Reason, Node: wp.Status.NodeName, Pod: wp.Status.PodName, RerunOf: wp.Spec.RerunOf,
		Created: clockTime(&wp.CreationTimestamp), Started: clockTime(wp.Status.StartTime),
		Finished: clockTime(wp.Status.CompletionTime), Duration: took(wp.Status.StartTime, wp.Status.CompletionTime, now),
		ServiceAccount: wp.Spec.ServiceAccountName, Trigger: triggerFields(wp.Spec.Trigger),
		States: map[string]stepState{}, Ended: wp.Status.Phase.Finished()}
	v.Cancellable = !v.Ended && !wp.Spec.Cancelled
	if v.ServiceAccount == "" {
		v.ServiceAccount = "default"
	}
	status := map[string]*kubeciv1.StepStatus{}
	for i := range wp.Status.Steps {
		status[wp.Status.Steps[i].Name] = &wp.Status.Steps[i]
	}
	for _, ts := range plan.Steps(wp.Spec.Tasks) {
		row := stepRow{Name: ts.Step.Name, Task: ts.Task, Kind: "serial", Phase: "Waiting"}
		if ts.Parallel {
			row.Kind = "parallel"
		}
		if st := status[ts.Step.Name]; st != nil {
			row.Phase, row.Message = string(st.Phase), st.Message
			if st.ExitCode != nil {
				row.Exit = fmt.Sprint(*st.ExitCode)
			}
			row.Duration = took(st.StartTime, st.FinishTime, now)
		}
		if row.Phase == string(kubeciv1.StepWaiting) && v.Ended {
			row.Phase = string(kubeciv1.StepSkipped)
		}
		detail := row.Duration
		if row.Exit != "" {
			detail = "exit " + row.Exit + " · " + row.Duration
		}
		v.States[row.Name] = stepState{Phase: row.Phase, Detail: detail}
		v.Steps = append(v.Steps, row)
	}
	return v
}

// ago is how long before now t was ("5m"), empty for no time.
func ago(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// took is how long something that started at start took: until end, or until
// now while it goes on; empty before it started.
func took(start, end *metav1.Time, now time.Time) string {
	if start == nil || start.IsZero() {
		return ""
	}
	stop := now
	if end != nil && !end.IsZero() {
		stop = end.Time
	}
	return duration.HumanDuration(stop.Sub(start.Time))
}

// clockTime shows a time in UTC, to the second.
func clockTime(t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
