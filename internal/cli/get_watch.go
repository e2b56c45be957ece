package cli

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// watchUpdate is what one of the watches of `get workflows -w` saw: the
// objects of a (re)list, or one change.
type watchUpdate struct {
	listed []runtime.Object
	event  *watch.Event
}

// watchWorkflows prints the Workflows, then each change. A Workflow's row
// also shows its last run, so its Workplans are watched too, and a row is
// printed again when its last run changes. names, when given, limit it to
// those Workflows.
func (g *getOptions) watchWorkflows(ctx context.Context, c *cluster, p *objectPrinter, names []string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var nsOpts []client.ListOption
	if !g.allNamespaces {
		nsOpts = append(nsOpts, client.InNamespace(c.Namespace))
	}
	wfOpts, err := g.listOptions(c, kindWorkflow, nil)
	if err != nil {
		return err
	}

	workflows, workplans := make(chan watchUpdate), make(chan watchUpdate)
	errs := make(chan error, 2)
	feed := func(list client.ObjectList, opts []client.ListOption, out chan<- watchUpdate) {
		errs <- c.listAndWatch(ctx, list, opts,
			func(items []runtime.Object) (bool, error) {
				return false, send(ctx, out, watchUpdate{listed: items})
			},
			func(ev watch.Event) (bool, error) {
				return false, send(ctx, out, watchUpdate{event: &ev})
			})
	}
	go feed(&kubeciv1.WorkflowList{}, wfOpts, workflows)
	if p.table != nil {
		go feed(&kubeciv1.WorkplanList{}, nsOpts, workplans)
	} else {
		workplans = nil // objects are printed without their runs
		errs <- nil
	}

	w := &workflowWatch{p: p, names: names, wfs: map[string]*kubeciv1.Workflow{}, runs: newLastRuns(nil)}
	// The first table waits for both lists, so that it shows the last runs.
	if workplans != nil {
		select {
		case u := <-workplans:
			w.runsListed(u.listed)
		case err := <-errs:
			return err
		}
	}
	for {
		var err error
		select {
		case u := <-workflows:
			if u.event == nil {
				err = w.workflowsListed(u.listed)
			} else {
				err = w.workflowEvent(*u.event)
			}
		case u := <-workplans:
			if u.event == nil {
				w.runsListed(u.listed)
				err = w.printAll()
			} else {
				err = w.runEvent(*u.event)
			}
		case err = <-errs:
			if err == nil {
				continue
			}
		}
		if err != nil {
			return err
		}
	}
}

func send(ctx context.Context, out chan<- watchUpdate, u watchUpdate) error {
	select {
	case out <- u:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// workflowWatch is the state of `get workflows -w`: the Workflows and runs
// seen so far.
type workflowWatch struct {
	p     *objectPrinter
	names []string
	wfs   map[string]*kubeciv1.Workflow // by namespace/name
	runs  *lastRuns
}

func (w *workflowWatch) wanted(wf *kubeciv1.Workflow) bool {
	return len(w.names) == 0 || contains(w.names, wf.Name)
}

func (w *workflowWatch) runsListed(items []runtime.Object) {
	w.runs = newLastRuns(nil)
	for _, item := range items {
		if wp, ok := item.(*kubeciv1.Workplan); ok {
			w.runs.add(wp)
		}
	}
}

func (w *workflowWatch) workflowsListed(items []runtime.Object) error {
	w.wfs = map[string]*kubeciv1.Workflow{}
	for _, item := range items {
		if wf, ok := item.(*kubeciv1.Workflow); ok && w.wanted(wf) {
			w.wfs[wf.Namespace+"/"+wf.Name] = wf
		}
	}
	return w.printAll()
}

// printAll prints the rows of every Workflow known that changed.
func (w *workflowWatch) printAll() error {
	wfs := make([]kubeciv1.Workflow, 0, len(w.wfs))
	for _, wf := range w.wfs {
		wfs = append(wfs, *wf)
	}
	sortWorkflows(wfs)
	return w.print(wfs)
}

func (w *workflowWatch) print(wfs []kubeciv1.Workflow) error {
	if w.p.table == nil {
		return w.p.workflows(wfs, w.runs, true)
	}
	t := workflowTable(w.p.clock, wfs, w.runs)
	t.Rows = w.p.changedRows(t.Rows)
	return w.p.printTable(t)
}

func (w *workflowWatch) workflowEvent(ev watch.Event) error {
	wf, ok := ev.Object.(*kubeciv1.Workflow)
	if !ok || !w.wanted(wf) {
		return nil
	}
	key := wf.Namespace + "/" + wf.Name
	if ev.Type == watch.Deleted {
		delete(w.wfs, key)
		delete(w.p.rows, key) // a Workflow created again under the name is printed
	} else {
		w.wfs[key] = wf
	}
	return w.print([]kubeciv1.Workflow{*wf})
}

func (w *workflowWatch) runEvent(ev watch.Event) error {
	wp, ok := ev.Object.(*kubeciv1.Workplan)
	if !ok {
		return nil
	}
	if ev.Type == watch.Deleted {
		w.runs.remove(wp)
	} else {
		w.runs.add(wp)
	}
	wf, ok := w.wfs[wp.Namespace+"/"+wp.Spec.Workflow]
	if !ok {
		return nil
	}
	return w.print([]kubeciv1.Workflow{*wf})
}
