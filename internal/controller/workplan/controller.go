package workplan

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/controller/status"
)

const (
	// ControllerName names the controller (and its Events' reporter).
	ControllerName = "workplan"
	workplanKind   = "Workplan"

	// indexOwner and indexNodeName are field indexes SetupWithManager
	// registers: pods by the UID of their Workplan, Workplans by
	// status.nodeName.
	indexOwner    = "kube.ci/workplan-uid"
	indexNodeName = "kube.ci/status.nodeName"
)

// Reconciler runs Workplans: one pod per task on the run's node, status
// from the pods, cleanup of the workspace. (Their Workflow's controller
// prunes the ended ones beyond its history limits.)
type Reconciler struct {
	Client client.Client
	// APIReader reads around the cache, to confirm that a pod the cache does
	// not show is really gone.
	APIReader client.Reader
	// Scheme must know Kube CI's kinds and the built-in ones.
	Scheme *runtime.Scheme
	// Recorder records Events (mgr.GetEventRecorder, events.k8s.io/v1).
	Recorder events.EventRecorder
	// Clock tells the time for deadlines and grace periods.
	Clock   clock.PassiveClock
	Options Options
}

// +kubebuilder:rbac:groups=kube.ci,resources=workplans,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=kube.ci,resources=workplans/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=kube.ci,resources=workplans/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;create;patch;delete
// +kubebuilder:rbac:groups="",resources=nodes,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager creates the Workplan controller and adds it to mgr, as
// the Workflow controller's SetupWithManager does: it checks the options,
// fills in their defaults, registers the field indexes the controller lists
// by, and starts watching Workplans, their pods and nodes. The manager's pod
// cache may be limited to pods labelled kube.ci/workplan: the controller sees
// no other pod.
func SetupWithManager(mgr ctrl.Manager, opts Options) (*Reconciler, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("workplan controller: %w", err)
	}
	for _, obj := range []runtime.Object{&kubeciv1.Workplan{}, &corev1.Pod{}, &corev1.Node{}} {
		if _, err := apiutil.GVKForObject(obj, mgr.GetScheme()); err != nil {
			return nil, fmt.Errorf("workplan controller: the manager's scheme lacks a kind it needs (add kube.ci/v1alpha1 and client-go's scheme): %w", err)
		}
	}
	r := &Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Scheme:    mgr.GetScheme(),
		Recorder:  mgr.GetEventRecorder("kubeci-workplan"),
		Clock:     opts.Clock,
		Options:   opts,
	}
	return r, r.setupWithManager(mgr)
}

func (r *Reconciler) setupWithManager(mgr ctrl.Manager) error {
	ctx := context.Background()
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &corev1.Pod{}, indexOwner, podOwnerUID); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &kubeciv1.Workplan{}, indexNodeName, func(o client.Object) []string {
		if n := o.(*kubeciv1.Workplan).Status.NodeName; n != "" {
			return []string{n}
		}
		return nil
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&kubeciv1.Workplan{}).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(podToWorkplan)).
		Watches(&corev1.Node{}, handler.EnqueueRequestsFromMapFunc(r.workplansOnNode), builder.WithPredicates(nodeReadinessChanged)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Options.MaxConcurrentReconciles}).
		Complete(r)
}

// podOwnerUID indexes a pod by the UID of the Workplan it belongs to.
func podOwnerUID(o client.Object) []string {
	if _, uid := workplanOf(o); uid != "" {
		return []string{string(uid)}
	}
	return nil
}

// podToWorkplan maps a pod to the Workplan it belongs to.
func podToWorkplan(_ context.Context, pod client.Object) []reconcile.Request {
	name, _ := workplanOf(pod)
	if name == "" {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: pod.GetNamespace(), Name: name}}}
}

// scope is what one reconcile of a Workplan works on.
type scope struct {
	wp *kubeciv1.Workplan
	// taskPods and cleanupPods are the Workplan's pods, by task index and by
	// cleanup attempt.
	taskPods    map[int]*corev1.Pod
	cleanupPods map[int]*corev1.Pod
	// node is the state of the node holding the run's workspace.
	node nodeState
	// requeueAfter is the soonest a deadline or grace period runs out.
	requeueAfter time.Duration
	// release is set once the workspace cleanup is over: the finalizer goes.
	release bool
}

func (s *scope) requeue(d time.Duration) { s.requeueAfter = soonest(s.requeueAfter, d) }

// Reconcile brings one Workplan a step further. Everything is derived from
// the Workplan and its pods, so any reconcile may be the first after a
// restart. The status is patched once, at the end.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	wp := &kubeciv1.Workplan{}
	if err := r.Client.Get(ctx, req.NamespacedName, wp); err != nil {
		if apierrors.IsNotFound(err) {
			phases.forget(req.NamespacedName)
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	deleting := wp.DeletionTimestamp != nil
	if deleting && !controllerutil.ContainsFinalizer(wp, kubeciv1.FinalizerWorkspaceCleanup) {
		return ctrl.Result{}, nil
	}
	old := wp.DeepCopy()
	s := &scope{wp: wp}
	defer func() {
		res, retErr = r.finish(ctx, old, s, res, retErr)
	}()

	if err := r.observe(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	if !deleting {
		if err := r.ensureFinalizer(ctx, old, wp); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := r.reconcileTask(ctx, s); err != nil {
		return ctrl.Result{}, err
	}
	done, err := r.reconcileCleanup(ctx, s)
	if err != nil {
		return ctrl.Result{}, err
	}
	s.release = done
	return ctrl.Result{RequeueAfter: s.requeueAfter}, nil
}

// finish saves the status as package status says, then records the Events
// and metrics of what changed, and releases the finalizer once the cleanup is
// over. A conflict means the cache was behind: the newer Workplan is
// reconciled again shortly, so it is not an error.
func (r *Reconciler) finish(ctx context.Context, old *kubeciv1.Workplan, s *scope, res ctrl.Result, retErr error) (ctrl.Result, error) {
	wp := s.wp
	if !equality.Semantic.DeepEqual(old.Status, wp.Status) {
		saved, err := status.Patch(ctx, r.Client, old, wp)
		switch {
		case saved == status.Gone:
			return ctrl.Result{}, nil
		case saved == status.Conflict || err != nil:
			return status.Result(res, saved, errors.Join(retErr, err))
		}
		for _, n := range notices(&old.Status, &wp.Status) {
			r.Recorder.Eventf(wp, nil, n.eventType, n.reason, n.action, "%s", n.note)
		}
		observeDurations(&old.Status, wp)
	}
	phases.observe(wp)
	if s.release && retErr == nil {
		err := r.releaseFinalizer(ctx, wp)
		switch {
		case apierrors.IsConflict(err):
			log.FromContext(ctx).V(1).Info("Workplan changed meanwhile; releasing its finalizer on the next reconcile")
			return status.Result(res, status.Conflict, nil)
		case err != nil:
			return ctrl.Result{}, fmt.Errorf("removing finalizer %s: %w", kubeciv1.FinalizerWorkspaceCleanup, err)
		}
	}
	if retErr == nil {
		res.RequeueAfter = soonest(res.RequeueAfter, s.requeueAfter)
	}
	return status.Result(res, status.Saved, retErr)
}
