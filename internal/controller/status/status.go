// Package status is how Kube CI's controllers write what they observed, the
// one convention both the Workflow and the Workplan controller follow:
//
//   - A reconcile works on a copy of the object read and writes its status
//     once, at the end, when it changed: a merge patch that carries the
//     resourceVersion read (an optimistic lock), so that a status written
//     meanwhile is never overwritten with an older record.
//   - A conflict is not an error: the cache was behind the object, and the
//     reconcile is done again, from the newer object, after ConflictRetry.
//   - An object deleted meanwhile needs nothing more.
//   - A reconcile that fails returns its error alone: controller-runtime
//     ignores (with a warning) a Result returned together with an error, and
//     retries with its own backoff.
package status

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// ConflictRetry is how soon an object whose status write met a conflict is
// reconciled again.
const ConflictRetry = time.Second

// Outcome is what became of a status write.
type Outcome int

const (
	// Saved: the status is saved (or there was nothing new to write).
	Saved Outcome = iota
	// Conflict: the object changed since it was read; nothing was saved.
	Conflict
	// Gone: the object no longer exists.
	Gone
)

// Patch writes the status of obj, a changed copy of before, with an
// optimistic lock. A conflict or a deleted object is an Outcome, not an
// error.
func Patch(ctx context.Context, c client.Client, before, obj client.Object) (Outcome, error) {
	err := c.Status().Patch(ctx, obj, statusMergeFrom{before: before})
	switch {
	case err == nil:
		return Saved, nil
	case apierrors.IsConflict(err):
		log.FromContext(ctx).V(1).Info("the object changed meanwhile; reconciling the newer one", "retryAfter", ConflictRetry)
		return Conflict, nil
	case apierrors.IsNotFound(err):
		return Gone, nil
	}
	return Saved, fmt.Errorf("saving the status: %w", err)
}

// statusMergeFrom is client.MergeFromWithOptions(before,
// client.MergeFromWithOptimisticLock{}) for a write of the status
// subresource, which ignores all but the status: the same merge patch of the
// status, carrying before's resourceVersion, computed from the two statuses
// alone rather than from two deep copies of the whole objects, marshalled and
// decoded again (with 1,000 Workflows at start-up, tens of MB).
type statusMergeFrom struct {
	before client.Object
}

func (statusMergeFrom) Type() types.PatchType { return types.MergePatchType }

func (p statusMergeFrom) Data(obj client.Object) ([]byte, error) {
	version := p.before.GetResourceVersion()
	if version == "" {
		return nil, fmt.Errorf("cannot write the status of %s/%s with an optimistic lock: it has no resourceVersion", p.before.GetNamespace(), p.before.GetName())
	}
	from, ok1 := statusOf(p.before)
	to, ok2 := statusOf(obj)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%T has no status field", obj)
	}
	fromJSON, err := json.Marshal(from)
	if err != nil {
		return nil, err
	}
	toJSON, err := json.Marshal(to)
	if err != nil {
		return nil, err
	}
	diff, err := jsonpatch.CreateMergePatch(fromJSON, toJSON)
	if err != nil {
		return nil, err
	}
	type meta struct {
		ResourceVersion string `json:"resourceVersion"`
	}
	return json.Marshal(struct {
		Metadata meta            `json:"metadata"`
		Status   json.RawMessage `json:"status"`
	}{meta{version}, diff})
}

// statusOf is the Status field of obj, a pointer to an API type's struct.
func statusOf(obj client.Object) (any, bool) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	f := v.Elem().FieldByName("Status")
	if !f.IsValid() || !f.CanInterface() {
		return nil, false
	}
	return f.Interface(), true
}

// Result is what a reconcile returns: its error alone when it failed,
// otherwise res, sooner when a status write met a conflict.
func Result(res ctrl.Result, outcome Outcome, err error) (ctrl.Result, error) {
	switch {
	case err != nil:
		return ctrl.Result{}, err
	case outcome == Conflict && (res.RequeueAfter == 0 || res.RequeueAfter > ConflictRetry):
		return ctrl.Result{RequeueAfter: ConflictRetry}, nil
	}
	return res, nil
}
