package workflow

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/trigger"
)

// createParallelism is how many Workplans one decision creates at once. A
// burst of changes decided together would otherwise take one API round trip
// per run, one after the other.
const createParallelism = 8

// startRuns creates the Workplan of each fire, several at once. Each is named
// after the Workflow and the change it answers (the object's UID and
// resourceVersion, and the event), so creating it again after a crash or a
// conflict finds it already there instead of starting a second run. Runs
// decided together are created in no particular order.
func (r *Reconciler) startRuns(ctx context.Context, wf *kubeciv1.Workflow, owner types.NamespacedName, fires []trigger.Fire) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(createParallelism)
	for _, f := range fires {
		g.Go(func() error { return r.startFire(ctx, wf, owner, f) })
	}
	return g.Wait()
}

// startFire creates the Workplan of one fire.
func (r *Reconciler) startFire(ctx context.Context, wf *kubeciv1.Workflow, owner types.NamespacedName, f trigger.Fire) error {
	o := f.Object
	rv := o.ResourceVersion
	if f.Event == kubeciv1.EventDeleted {
		rv = "" // an object is deleted once, whether seen live or after a restart
	}
	ev, err := trigger.EventOf(f)
	if err != nil {
		return fmt.Errorf("recording %s %s/%s for a run: %w", o.Kind, o.Namespace, o.Name, err)
	}
	name := names.Workplan(wf.Name, string(wf.UID), string(o.UID), rv, string(f.Event))
	created, err := r.startRun(ctx, wf, ev, name, nil)
	if err != nil {
		return err
	}
	if created {
		if at, ok := r.dispatch.receivedAt(owner, o.UID); ok {
			triggerLatency.Observe(r.Clock.Since(at).Seconds())
		}
	}
	return nil
}

// reconcileRunRequest answers a new kube.ci/run-request annotation with one
// manual run of the Workflow's current steps. Users ask for runs this way
// (kubeci trigger) rather than by creating Workplans, so they can only run
// what the Workflow holds, under the Workflow's ServiceAccount.
func (r *Reconciler) reconcileRunRequest(ctx context.Context, wf *kubeciv1.Workflow, valid bool) error {
	req := wf.Annotations[kubeciv1.AnnotationRunRequest]
	if req == "" || req == wf.Status.LastHandledRunRequest {
		return nil
	}
	if !valid {
		r.Recorder.Eventf(wf, nil, corev1.EventTypeWarning, "RunRequestRejected", "Trigger",
			"run request %q not started: the workflow is invalid (see its Ready condition)", req)
		wf.Status.LastHandledRunRequest = req
		return nil
	}
	name := names.Workplan(wf.Name, string(wf.UID), "manual", req)
	labels := map[string]string{kubeciv1.LabelRunRequest: names.RunRequest(req)}
	if _, err := r.startRun(ctx, wf, kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}, name, labels); err != nil {
		return err
	}
	wf.Status.LastHandledRunRequest = req
	return nil
}

// startRun creates one Workplan; created is false when it already existed.
func (r *Reconciler) startRun(ctx context.Context, wf *kubeciv1.Workflow, ev kubeciv1.TriggerEvent, name string, labels map[string]string) (created bool, err error) {
	wp, err := plan.NewWorkplan(wf, ev, name)
	if err != nil {
		return false, err
	}
	for k, v := range labels {
		wp.Labels[k] = v
	}
	withCleanupFinalizer(wp)
	if err := r.Create(ctx, wp); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return false, nil
		}
		return false, fmt.Errorf("creating Workplan %s: %w", name, err)
	}
	// No Event says so: the Workplan itself is the record of the run and of
	// what triggered it (kubeci describe workflow lists the recent ones), and
	// an Event per run would cost the API server a create for nothing a
	// person needs to be told. kubeci_workplans_created_total counts them.
	workplansCreated.WithLabelValues(string(ev.Event)).Inc()
	return true, nil
}

// withCleanupFinalizer gives a Workplan about to be created the finalizer
// with which the Workplan controller sees to its workspace's cleanup, so that
// controller need not add it with a request of its own before the first pod
// (it still does for Workplans created otherwise, for example with kubectl).
func withCleanupFinalizer(wp *kubeciv1.Workplan) {
	controllerutil.AddFinalizer(wp, kubeciv1.FinalizerWorkspaceCleanup)
}

// describeEvent says what started a run, for events.
func describeEvent(ev kubeciv1.TriggerEvent) string {
	if ev.Event == kubeciv1.EventManual {
		return "manual run"
	}
	name := ev.Name
	if ev.Namespace != "" {
		name = ev.Namespace + "/" + name
	}
	if ev.Name == "" {
		name = "uid " + string(ev.UID)
	}
	return fmt.Sprintf("%s %s %s", ev.Kind, name, ev.Event)
}
