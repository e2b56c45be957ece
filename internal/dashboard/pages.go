package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/runrequest"
)

// recentRuns is how many runs a Workflow's page lists.
const recentRuns = 20

// allNamespaces is the namespace choice that lists every namespace.
const allNamespaces = "*"

// The pages: each handler gathers the objects as the viewer, a pure function
// (views.go) decides what to show, a template renders it. The same functions
// render the live fragments the event streams push (sse.go).

// workflowsData is the Workflows page.
type workflowsData struct {
	Namespace string // allNamespaces for all
	All       bool
	Rows      []workflowRow
}

func workflowsView(ns string, wfs []kubeciv1.Workflow, wps []kubeciv1.Workplan, now time.Time) workflowsData {
	return workflowsData{Namespace: ns, All: ns == allNamespaces, Rows: workflowRows(wfs, wps, now)}
}

// listNamespace is the namespace to list in: all for allNamespaces.
func listNamespace(ns string) []client.ListOption {
	if ns == allNamespaces {
		return nil
	}
	return []client.ListOption{client.InNamespace(ns)}
}

func (s *Server) workflowsPage(w http.ResponseWriter, r *http.Request) {
	ns := r.URL.Query().Get("namespace")
	if ns == "" {
		ns = s.opts.Namespace
	}
	v := s.viewerOrFail(w, r)
	if v == nil {
		return
	}
	var wfs kubeciv1.WorkflowList
	var wps kubeciv1.WorkplanList
	if err := v.Client.List(r.Context(), &wfs, listNamespace(ns)...); err != nil {
		s.apiFail(w, r, "listing workflows", err)
		return
	}
	if err := v.Client.List(r.Context(), &wps, listNamespace(ns)...); err != nil {
		s.apiFail(w, r, "listing workplans", err)
		return
	}
	s.render(w, r, http.StatusOK, "workflows.html", page{Title: "Workflows", Namespace: ns, Live: "/live/workflows?namespace=" + ns},
		workflowsView(ns, wfs.Items, wps.Items, s.now()))
}

// workflowData is a Workflow's page.
type workflowData struct {
	Namespace, Name string
	Ready           *metav1.Condition
	Conditions      []conditionView
	Errors          []specError
	Triggers        []triggerView
	Steps           []stepView
	DAG             *dag
	Tasks           int
	Runs            []runRow
	ServiceAccount  string
	PendingRun      string
	PendingRerun    string
}

func workflowView(wf *kubeciv1.Workflow, wps []kubeciv1.Workplan, now time.Time) workflowData {
	d := workflowData{Namespace: wf.Namespace, Name: wf.Name,
		Ready:      meta.FindStatusCondition(wf.Status.Conditions, kubeciv1.ConditionReady),
		Conditions: conditionViews(wf.Status.Conditions, now), Errors: specErrors(wf),
		Triggers: triggerViews(wf), Steps: stepViews(wf.Spec.Steps), Runs: runRows(wps, now, recentRuns),
		ServiceAccount: wf.Spec.ServiceAccountName, PendingRun: runrequest.Run.Pending(wf),
		PendingRerun: runrequest.Rerun.Pending(wf)}
	if d.ServiceAccount == "" {
		d.ServiceAccount = "default"
	}
	if len(d.Errors) == 0 {
		if tasks, err := plan.Plan(wf.Spec.Steps); err == nil {
			d.DAG, _ = layoutDAG(tasks, nil)
			d.Tasks = len(tasks)
		}
	}
	return d
}

// runsOf lists the runs of Workflow name in ns.
func runsOf(ctx context.Context, v *viewer, ns, name string) ([]kubeciv1.Workplan, error) {
	var wps kubeciv1.WorkplanList
	if err := v.Client.List(ctx, &wps, client.InNamespace(ns), client.MatchingLabels{kubeciv1.LabelWorkflow: names.LabelValue(name)}); err != nil {
		return nil, err
	}
	return ownRuns(wps.Items, name), nil
}

// ownRuns keeps the runs of Workflow name (a shortened label value can be
// shared by two long names).
func ownRuns(wps []kubeciv1.Workplan, name string) []kubeciv1.Workplan {
	out := wps[:0:0]
	for _, wp := range wps {
		if wp.Spec.Workflow == name {
			out = append(out, wp)
		}
	}
	return out
}

func (s *Server) workflowPage(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	v := s.viewerOrFail(w, r)
	if v == nil {
		return
	}
	wf := &kubeciv1.Workflow{}
	if err := v.Client.Get(r.Context(), client.ObjectKey{Namespace: ns, Name: name}, wf); err != nil {
		s.apiFail(w, r, "reading workflow "+name, err)
		return
	}
	runs, err := runsOf(r.Context(), v, ns, name)
	if err != nil {
		s.apiFail(w, r, "listing the runs of workflow "+name, err)
		return
	}
	s.render(w, r, http.StatusOK, "workflow.html", page{Title: "Workflow " + name, Namespace: ns,
		Live: fmt.Sprintf("/live/workflows/%s/%s", ns, name)}, workflowView(wf, runs, s.now()))
}

// runData is a run's page.
type runData struct {
	Run runView
	DAG *dag
	// DAGError says why the graph cannot be drawn (a run of invalid steps
	// cannot exist, but its page must still open).
	DAGError string
}

func runDataOf(wp *kubeciv1.Workplan, now time.Time) runData {
	d := runData{Run: newRunView(wp, now)}
	g, err := layoutDAG(wp.Spec.Tasks, d.Run.States)
	if err != nil {
		d.DAGError = err.Error()
	}
	d.DAG = g
	return d
}

func (s *Server) runPage(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	_, wp := s.readWorkplan(w, r, ns, name, s.apiFail)
	if wp == nil {
		return
	}
	s.render(w, r, http.StatusOK, "run.html", page{Title: "Run " + name, Namespace: ns,
		Live: fmt.Sprintf("/live/runs/%s/%s", ns, name)}, runDataOf(wp, s.now()))
}

// readWorkplan reads run name in ns as r's viewer, or shows why it cannot
// with fail and returns a nil Workplan.
func (s *Server) readWorkplan(w http.ResponseWriter, r *http.Request, ns, name string,
	fail func(http.ResponseWriter, *http.Request, string, error)) (*viewer, *kubeciv1.Workplan) {
	v := s.viewerOrFail(w, r)
	if v == nil {
		return nil, nil
	}
	wp := &kubeciv1.Workplan{}
	if err := v.Client.Get(r.Context(), client.ObjectKey{Namespace: ns, Name: name}, wp); err != nil {
		if apierrors.IsNotFound(err) {
			err = fmt.Errorf("%w (runs are deleted beyond their Workflow's history limit)", err)
		}
		fail(w, r, "reading workplan "+name, err)
		return nil, nil
	}
	return v, wp
}
