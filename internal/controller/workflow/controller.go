package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/controller/status"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/trigger"
	"github.com/kubeci/kubeci/internal/watch"
)

// unknownResourceRetry is how often a Workflow whose trigger kind is not served
// looks again, besides when a CRD changes.
const unknownResourceRetry = 15 * time.Second

// tooManyObjectsRetry is how often a Workflow matching too many objects
// looks again (objects may have been deleted meanwhile).
const tooManyObjectsRetry = 2 * time.Minute

// watchFailedRetry is how often a Workflow whose watch fails looks again.
const watchFailedRetry = 30 * time.Second

// Options configure the Workflow controller.
type Options struct {
	// MaxConcurrentReconciles is how many Workflows are reconciled at once.
	MaxConcurrentReconciles int
	// Clock tells the time; the real clock when nil.
	Clock clock.PassiveClock
	// RecordLimits bound a Workflow's record of acted-on changes (entries in
	// its status, in a shard, number of shards); trigger.DefaultLimits when
	// zero. Tests set smaller ones to reach the bounds cheaply.
	RecordLimits trigger.Limits
	// TooManyObjectsRetry is how often a Workflow matching more objects than
	// its record may hold looks again; tooManyObjectsRetry when zero.
	TooManyObjectsRetry time.Duration
}

// Reconciler is the Workflow controller.
type Reconciler struct {
	client.Client
	Mapper   meta.RESTMapper
	Recorder events.EventRecorder
	Clock    clock.PassiveClock

	// reader reads from the API server, not the cache: the record's shards.
	reader   client.Reader
	registry *watch.Registry
	dispatch *dispatcher
	gens     *generations
	access   *accessChecker
	written  *staleReads
	shards   *shardCache
	limits   trigger.Limits
	// tooManyRetry is Options.TooManyObjectsRetry.
	tooManyRetry time.Duration
}

// +kubebuilder:rbac:groups=kube.ci,resources=workflows,verbs=get;list;watch
// +kubebuilder:rbac:groups=kube.ci,resources=workflows/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=kube.ci,resources=workflows/finalizers,verbs=update
// +kubebuilder:rbac:groups=kube.ci,resources=workplans,verbs=create;get;list;watch;delete
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
// +kubebuilder:rbac:groups=apiextensions.k8s.io,resources=customresourcedefinitions,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// The kinds triggers watch: ConfigMaps out of the box; grant more through the
// aggregated ClusterRole kubeci-operator-triggers (config/rbac).
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=list;watch

// SetupWithManager creates the Workflow controller and its shared informers
// and adds them to mgr.
func SetupWithManager(mgr ctrl.Manager, opts Options) (*Reconciler, error) {
	clk := opts.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	limits := opts.RecordLimits
	if limits == (trigger.Limits{}) {
		limits = trigger.DefaultLimits
	}
	if err := limits.Validate(); err != nil {
		return nil, err
	}
	gens := newGenerations()
	r := &Reconciler{
		Client:   mgr.GetClient(),
		reader:   mgr.GetAPIReader(),
		Mapper:   mgr.GetRESTMapper(),
		Recorder: mgr.GetEventRecorder("kubeci-workflow"),
		Clock:    clk,
		gens:     gens,
		dispatch: newDispatcher(gens, clk),
		access:   newAccessChecker(mgr.GetClient(), clk),
		written:  newStaleReads(),
		shards:   newShardCache(),
		limits:   limits,
	}
	r.tooManyRetry = opts.TooManyObjectsRetry
	if r.tooManyRetry <= 0 {
		r.tooManyRetry = tooManyObjectsRetry
	}
	var err error
	if r.registry, err = watch.NewRegistry(mgr.GetConfig(), r.dispatch); err != nil {
		return nil, err
	}
	if err := mgr.Add(r.registry); err != nil {
		return nil, err
	}
	if err := r.forgetCachedWrites(mgr); err != nil {
		return nil, err
	}
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &kubeciv1.Workplan{}, indexRunsOfWorkflow, runsOfWorkflow); err != nil {
		return nil, err
	}
	crds := &metav1.PartialObjectMetadata{}
	crds.SetGroupVersionKind(apiextensionsCRD)
	err = ctrl.NewControllerManagedBy(mgr).
		Named("workflow").
		For(&kubeciv1.Workflow{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Owns(&kubeciv1.Workplan{}, builder.WithPredicates(runEnded)).
		WatchesRawSource(r.dispatch.source()).
		Watches(crds, handler.EnqueueRequestsFromMapFunc(r.waitingForKinds)).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, opts.MaxConcurrentReconciles)}).
		Complete(r)
	return r, err
}

// Reconcile brings one Workflow's watches and runs up to date.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	wf, err := r.getWorkflow(ctx, req.NamespacedName)
	if err != nil {
		if apierrors.IsNotFound(err) {
			r.stopWatching(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if !wf.DeletionTimestamp.IsZero() {
		r.stopWatching(req.NamespacedName)
		return ctrl.Result{}, nil
	}

	before := wf.DeepCopy()
	var snap snapshot
	result, decided, err := r.reconcile(ctx, wf, req.NamespacedName, &snap)
	saved, patchErr := r.patchStatus(ctx, req.NamespacedName, before, wf)
	err = errors.Join(err, patchErr)
	if decided && err == nil && saved == status.Saved {
		r.dispatch.decided(req.NamespacedName, snap)
	}
	err = errors.Join(err, r.reconcileHistory(ctx, wf))
	return status.Result(result, saved, err)
}

// reconcile runs the steps in order, each of which may stop the rest: answer a
// rerun request (whatever the spec, as a rerun repeats a run's own tasks),
// validate, answer a run request, resolve the trigger kinds, check access,
// watch, and decide, from the snapshot it takes in snap. decided is true when
// the triggers' objects were compared with the record.
func (r *Reconciler) reconcile(ctx context.Context, wf *kubeciv1.Workflow, owner types.NamespacedName, snap *snapshot) (ctrl.Result, bool, error) {
	wf.Status.ObservedGeneration = wf.Generation
	if err := r.reconcileRerunRequest(ctx, wf); err != nil {
		return ctrl.Result{}, false, err
	}

	if errs := plan.Validate(wf); len(errs) > 0 {
		r.notReady(wf, owner, problem{kubeciv1.ReasonInvalidSpec, "the workflow is invalid:\n" + plan.FormatErrors(errs)})
		return ctrl.Result{}, false, r.reconcileRunRequest(ctx, wf, false)
	}
	if err := r.reconcileRunRequest(ctx, wf, true); err != nil {
		return ctrl.Result{}, false, err
	}

	filters, prob, err := resolveFilters(r.Mapper, wf)
	if err != nil {
		return ctrl.Result{}, false, err
	}
	if prob != nil {
		r.notReady(wf, owner, *prob)
		return ctrl.Result{RequeueAfter: unknownResourceRetry}, false, nil
	}
	if prob, err := r.access.check(ctx, wf, filters); err != nil || prob != nil {
		if prob != nil {
			r.notReady(wf, owner, *prob)
		}
		return ctrl.Result{RequeueAfter: trigger.ForbiddenRetry}, false, err
	}

	if synced, prob := r.reconcileWatches(owner, filters); !synced {
		if prob != nil {
			r.notReady(wf, owner, *prob)
			return ctrl.Result{RequeueAfter: watchFailedRetry}, false, nil
		}
		return ctrl.Result{}, false, nil // the informer's sync wakes the Workflow up
	}

	// Taken once the informers have told of their initial lists, before
	// reading them: a first decision covers those events.
	*snap = r.dispatch.snapshot(owner)
	if prob, err := r.reconcileTriggers(ctx, wf, owner, filters, snap); err != nil || prob != nil {
		if prob != nil {
			r.notReady(wf, owner, *prob)
		}
		return ctrl.Result{RequeueAfter: r.tooManyRetry}, false, err
	}
	setReady(wf, metav1.ConditionTrue, kubeciv1.ReasonWatching, watchingMessage(filters))
	wf.Status.LastObservedGeneration = wf.Generation
	// Looking again regularly re-checks the ServiceAccount's access.
	return ctrl.Result{RequeueAfter: trigger.AccessTTL}, true, nil
}

// reconcileWatches subscribes the Workflow to the informers of its triggers and
// reports whether they have all synced, or why one cannot.
func (r *Reconciler) reconcileWatches(owner types.NamespacedName, filters []trigger.Filter) (bool, *problem) {
	r.dispatch.setFilters(owner, filters)
	keys := keysOf(filters)
	r.registry.Set(owner, keys)
	sharedInformers.Set(float64(len(r.registry.Keys())))
	for _, k := range keys {
		synced, err := r.registry.State(k)
		if synced {
			continue
		}
		if err != nil {
			return false, &problem{kubeciv1.ReasonWatchFailed, fmt.Sprintf(
				"the operator cannot list and watch %s: %v; its own RBAC must allow it (see the kubeci-operator-triggers ClusterRole)", k, err)}
		}
		return false, nil
	}
	return true, nil
}

// reconcileTriggers decides which changes start runs, starts them, and records
// what was acted on: first the shards of the record it changes, then (in the
// status, which the caller writes) the shard count, so that a crash at any
// point leaves a record that is redone, never one that starts a run twice.
// A decision looks at the objects changed since the last one (snap), or at
// every object the Workflow matches when snap says so, when the triggers
// changed, or when the record must grow.
// A Workflow whose triggers match more objects than its record can hold says
// so (Ready=False, TooManyObjects), starts nothing, and looks again after
// tooManyObjectsRetry (Options.TooManyObjectsRetry), or when its spec changes.
func (r *Reconciler) reconcileTriggers(ctx context.Context, wf *kubeciv1.Workflow, owner types.NamespacedName, filters []trigger.Filter, snap *snapshot) (*problem, error) {
	triggers := trigger.TriggersHash(wf.Spec.Triggers)
	if trigger.BaselineFor(wf.Status.ObservedTriggers, triggers) {
		snap.whole = true
	}
	if !snap.whole && len(snap.changed) == 0 {
		return nil, nil
	}
	rec, out, changes, err := r.decide(ctx, wf, owner, filters, snap)
	if err != nil {
		return nil, err
	}
	w, whole, msg := planRecord(r.limits, rec, changes)
	if msg != "" {
		return &problem{kubeciv1.ReasonTooManyObjects, msg}, nil
	}
	if whole {
		snap.whole = true
		return r.reconcileTriggers(ctx, wf, owner, filters, snap)
	}
	if err := r.startRuns(ctx, wf, owner, out.Fires); err != nil {
		return nil, err
	}
	if err := r.writeRecord(ctx, wf, rec, w); err != nil {
		return nil, err
	}
	triggerDecisions.WithLabelValues("fired").Add(float64(len(out.Fires)))
	triggerDecisions.WithLabelValues("unchanged").Add(float64(out.Unchanged))
	triggerDecisions.WithLabelValues("baselined").Add(float64(out.Baselined))
	triggerDecisions.WithLabelValues("forgotten").Add(float64(out.Forgotten))
	wf.Status.ObservedTriggers = triggers
	return nil, nil
}

// decide reads the record and the objects snap says to look at, and decides.
func (r *Reconciler) decide(ctx context.Context, wf *kubeciv1.Workflow, owner types.NamespacedName, filters []trigger.Filter, snap *snapshot) (*record, trigger.Output, trigger.Changes, error) {
	if !snap.whole {
		rec, err := r.readShardsOf(ctx, wf, snap.changed)
		if err != nil {
			return nil, trigger.Output{}, nil, err
		}
		in, err := r.observeChanged(owner, filters, rec.entries, snap.changed)
		if err != nil {
			return nil, trigger.Output{}, nil, err
		}
		out, changes := trigger.DecideChanged(in, snap.changed)
		return rec, out, changes, nil
	}
	rec, err := r.readRecord(ctx, wf)
	if err != nil {
		return nil, trigger.Output{}, nil, err
	}
	in, err := r.observe(wf, owner, filters, rec.entries)
	if err != nil {
		return nil, trigger.Output{}, nil, err
	}
	out := trigger.Decide(in)
	return rec, out, trigger.Diff(rec.entries, out.Observed), nil
}

// notReady records why the Workflow is not Ready and stops its watches; an
// event tells of each new reason.
func (r *Reconciler) notReady(wf *kubeciv1.Workflow, owner types.NamespacedName, p problem) {
	r.stopWatching(owner)
	wf.Status.LastObservedGeneration = 0
	if setReady(wf, metav1.ConditionFalse, p.reason, p.message) {
		r.Recorder.Eventf(wf, nil, "Warning", p.reason, "Watch", "%s", kubeciv1.TruncateMessage(p.message, 1024))
	}
}

func (r *Reconciler) stopWatching(owner types.NamespacedName) {
	r.registry.Remove(owner)
	r.dispatch.remove(owner)
	r.written.forget(owner)
	r.shards.forget(owner)
	sharedInformers.Set(float64(len(r.registry.Keys())))
}

// patchStatus writes the status when it changed, as package status says: a
// status written meanwhile is never overwritten with an older record, and a
// conflict makes the Workflow decide again.
func (r *Reconciler) patchStatus(ctx context.Context, key types.NamespacedName, before, wf *kubeciv1.Workflow) (status.Outcome, error) {
	if equality.Semantic.DeepEqual(before.Status, wf.Status) {
		return status.Saved, nil
	}
	saved, err := status.Patch(ctx, r.Client, before, wf)
	if saved == status.Saved && err == nil {
		r.written.wrote(key, before.ResourceVersion, wf)
	}
	return saved, err
}

// forgetCachedWrites has the Workflow cache's informer tell r.written of each
// version it holds, so that a write's result is dropped once the cache has it.
func (r *Reconciler) forgetCachedWrites(mgr ctrl.Manager) error {
	inf, err := mgr.GetCache().GetInformer(context.Background(), &kubeciv1.Workflow{}, cache.BlockUntilSynced(false))
	if err != nil {
		return err
	}
	if store, ok := inf.(toolscache.SharedIndexInformer); ok {
		r.written.cachedVersion = func(key types.NamespacedName) (string, bool) {
			obj, ok, err := store.GetStore().GetByKey(key.String())
			if wf, isWF := obj.(*kubeciv1.Workflow); err == nil && ok && isWF {
				return wf.ResourceVersion, true
			}
			return "", false
		}
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) {
			if wf, ok := obj.(*kubeciv1.Workflow); ok {
				r.written.cached(client.ObjectKeyFromObject(wf), wf.ResourceVersion)
			}
		},
	})
	return err
}

// getWorkflow reads a Workflow from the cache, or, when the cache still holds
// the version this controller's last status write replaced, takes the Workflow
// that write returned: deciding from the older one would only redo work and
// meet a conflict.
func (r *Reconciler) getWorkflow(ctx context.Context, key types.NamespacedName) (*kubeciv1.Workflow, error) {
	wf := &kubeciv1.Workflow{}
	if err := r.Get(ctx, key, wf); err != nil {
		return nil, err
	}
	if newer := r.written.newer(key, wf.ResourceVersion); newer != nil {
		return newer, nil
	}
	return wf, nil
}

// waitingForKinds maps a CRD change to the Workflows waiting for a kind to be
// served.
func (r *Reconciler) waitingForKinds(ctx context.Context, _ client.Object) []reconcile.Request {
	var list kubeciv1.WorkflowList
	if err := r.List(ctx, &list); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		if readyReason(&list.Items[i]) == kubeciv1.ReasonUnknownResource {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return reqs
}

// watchingMessage says what a Ready Workflow watches.
func watchingMessage(filters []trigger.Filter) string {
	if len(filters) == 0 {
		return "no triggers: the workflow runs only when asked to (kubeci trigger)"
	}
	var what []string
	for _, k := range keysOf(filters) {
		what = append(what, k.String())
	}
	return "watching " + strings.Join(what, ", ")
}
