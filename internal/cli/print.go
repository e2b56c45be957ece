package cli

import (
	"fmt"
	"io"
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/utils/clock"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// objectPrinter prints Workflows and Workplans as `kubeci get` does: a table
// (optionally wide, with a NAMESPACE column for -A) or the objects as YAML,
// JSON or names. One printer serves a whole watch: the table header is
// printed once and the columns keep their widths.
type objectPrinter struct {
	out   io.Writer
	clock clock.PassiveClock       // what ages are measured against
	tw    flushWriter              // aligns table columns
	table printers.ResourcePrinter // nil unless the output is a table
	obj   printers.ResourcePrinter // for yaml, json and name
	// rows holds the cells last printed for each object during a watch, so an
	// unchanged row is not printed again.
	rows map[string][]any
}

func newObjectPrinter(out io.Writer, output string, allNamespaces bool, clk clock.PassiveClock) (*objectPrinter, error) {
	p := &objectPrinter{out: out, rows: map[string][]any{}, clock: clk}
	switch output {
	case "", "wide":
		p.tw = printers.GetNewTabWriter(out)
		p.table = printers.NewTablePrinter(printers.PrintOptions{Wide: output == "wide", WithNamespace: allNamespaces})
	case "yaml":
		p.obj = &printers.YAMLPrinter{}
	case "json":
		p.obj = &printers.JSONPrinter{}
	case "name":
		p.obj = &printers.NamePrinter{}
	default:
		return nil, fmt.Errorf("unknown output format %q: use wide, yaml, json or name", output)
	}
	return p, nil
}

// flushWriter is a writer that holds text until flushed, as a tabwriter does.
type flushWriter interface {
	io.Writer
	Flush() error
}

// printTable prints t's rows, flushing them at once (a watch prints as
// changes come).
func (p *objectPrinter) printTable(t *metav1.Table) error {
	if len(t.Rows) == 0 {
		return nil
	}
	if err := p.table.PrintObj(t, p.tw); err != nil {
		return err
	}
	return p.tw.Flush()
}

// workplans prints wps: one object when single, else a list.
func (p *objectPrinter) workplans(wps []kubeciv1.Workplan, single bool) error {
	if p.table != nil {
		return p.printTable(workplanTable(p.clock, wps))
	}
	objs := make([]runtime.Object, len(wps))
	for i := range wps {
		objs[i] = forOutput(&wps[i])
	}
	return p.objects(objs, single, &kubeciv1.WorkplanList{Items: wps}, "WorkplanList")
}

// workflows prints wfs (with their last runs in tables): one object when
// single, else a list.
func (p *objectPrinter) workflows(wfs []kubeciv1.Workflow, runs *lastRuns, single bool) error {
	if p.table != nil {
		return p.printTable(workflowTable(p.clock, wfs, runs))
	}
	objs := make([]runtime.Object, len(wfs))
	for i := range wfs {
		objs[i] = forOutput(&wfs[i])
	}
	return p.objects(objs, single, &kubeciv1.WorkflowList{Items: wfs}, "WorkflowList")
}

// objects prints objs with the YAML, JSON or name printer: a single object
// alone, several as a list (names one per line).
func (p *objectPrinter) objects(objs []runtime.Object, single bool, list runtime.Object, listKind string) error {
	if _, names := p.obj.(*printers.NamePrinter); names || single {
		for _, obj := range objs {
			if err := p.obj.PrintObj(obj, p.out); err != nil {
				return err
			}
		}
		return nil
	}
	// The list's items were made ready for output in place by forOutput.
	list.GetObjectKind().SetGroupVersionKind(kubeciv1.GroupVersion.WithKind(listKind))
	return p.obj.PrintObj(list, p.out)
}

// workplanChanges prints Workplans seen by a watch: in a table, only rows
// that changed since they were last printed.
func (p *objectPrinter) workplanChanges(wps []kubeciv1.Workplan) error {
	if p.table == nil {
		return p.workplans(wps, true)
	}
	t := workplanTable(p.clock, wps)
	t.Rows = p.changedRows(t.Rows)
	return p.printTable(t)
}

// changedRows keeps the rows whose cells differ from those last printed for
// the same object, and remembers them.
func (p *objectPrinter) changedRows(rows []metav1.TableRow) []metav1.TableRow {
	var out []metav1.TableRow
	for _, r := range rows {
		obj, ok := r.Object.Object.(metav1.Object)
		if !ok {
			out = append(out, r)
			continue
		}
		key := obj.GetNamespace() + "/" + obj.GetName()
		if reflect.DeepEqual(p.rows[key], r.Cells) {
			continue
		}
		p.rows[key] = append([]any(nil), r.Cells...)
		out = append(out, r)
	}
	return out
}

// forOutput prepares obj (in place) for YAML and JSON: with its apiVersion
// and kind, and without managedFields, as kubectl prints objects.
func forOutput(obj runtime.Object) runtime.Object {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	switch obj.(type) {
	case *kubeciv1.Workplan:
		obj.GetObjectKind().SetGroupVersionKind(kubeciv1.GroupVersion.WithKind("Workplan"))
	case *kubeciv1.Workflow:
		obj.GetObjectKind().SetGroupVersionKind(kubeciv1.GroupVersion.WithKind("Workflow"))
	}
	return obj
}
