// Package runrequest is how users ask the operator for a run without creating
// Workplans themselves: a new value of an annotation on the Workflow (a run
// request for `kubeci trigger`, a rerun request for `kubeci rerun`), which the
// operator answers once and records in the Workflow's status; and the one
// change users make to a Workplan, cancelling it. The CLI and the dashboard
// both write through it, so both ask in exactly the same way.
package runrequest

import (
	"encoding/json"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Kind is one kind of request: the annotation that carries it and the status
// field where the operator records the value it answered.
type Kind struct {
	// Annotation on the Workflow holding the request.
	Annotation string
	// Handled is the value the operator last answered.
	Handled func(*kubeciv1.Workflow) string
}

// Run asks for a manual run of the Workflow's current steps.
var Run = Kind{
	Annotation: kubeciv1.AnnotationRunRequest,
	Handled:    func(wf *kubeciv1.Workflow) string { return wf.Status.LastHandledRunRequest },
}

// Rerun asks for a new run repeating one of the Workflow's runs.
var Rerun = Kind{
	Annotation: kubeciv1.AnnotationRerunRequest,
	Handled:    func(wf *kubeciv1.Workflow) string { return wf.Status.LastHandledRerunRequest },
}

// NewID returns a request id no one else will write: the time and a random
// suffix, a valid label value (the operator labels its Workplan with it).
func NewID() string {
	return time.Now().UTC().Format("20060102-150405") + "-" + rand.String(6)
}

// Pending is the request of kind k on wf the operator has not answered yet,
// if any. A new request waits until it has been answered, so that none
// replaces another unseen.
func (k Kind) Pending(wf *kubeciv1.Workflow) string {
	req := wf.Annotations[k.Annotation]
	if req == k.Handled(wf) {
		return ""
	}
	return req
}

// Patch sets the request annotation to value if the Workflow is still at
// resourceVersion rv.
func (k Kind) Patch(rv, value string) client.Patch {
	patch := map[string]any{"metadata": map[string]any{
		"resourceVersion": rv,
		"annotations":     map[string]string{k.Annotation: value},
	}}
	data, _ := json.Marshal(patch)
	return client.RawPatch(types.MergePatchType, data)
}

// RerunValue is the rerun request asking for Workplan workplan to run again,
// with request id id.
func RerunValue(workplan, id string) string { return workplan + "/" + id }

// ParseRerun splits a rerun request into the Workplan it names and its id.
func ParseRerun(value string) (workplan, id string, ok bool) {
	workplan, id, ok = strings.Cut(value, "/")
	return workplan, id, ok && workplan != "" && id != ""
}

// CancelPatch sets spec.cancelled, the one change users make to a Workplan.
var CancelPatch = client.RawPatch(types.MergePatchType, []byte(`{"spec":{"cancelled":true}}`))
