package workflow

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/runrequest"
)

// reconcileRerunRequest answers a new kube.ci/rerun-request annotation
// ("<workplan>/<nonce>", written by kubeci rerun and the dashboard) with one
// new run repeating that Workplan: its trigger event copied whole and its
// tasks, so a rerun is the same run again (same steps, same object, the same
// commit) and reproducible; a Workflow whose steps changed is run anew with
// a trigger. As with run requests, users never create Workplans: a rerun can
// only repeat what the operator itself once started for this Workflow.
//
// The new Workplan's name is derived from the request, so answering it again
// after a crash finds it instead of starting a second run; the request is
// then recorded in status.lastHandledRerunRequest. A request that cannot be
// answered (no such run, or a run of another Workflow) is recorded too, with
// a warning event saying why.
func (r *Reconciler) reconcileRerunRequest(ctx context.Context, wf *kubeciv1.Workflow) error {
	req := runrequest.Rerun.Pending(wf)
	if req == "" {
		return nil
	}
	original, why, err := r.rerunnable(ctx, wf, req)
	if err != nil {
		return err
	}
	if why != "" {
		r.Recorder.Eventf(wf, nil, corev1.EventTypeWarning, "RerunRequestRejected", "Rerun", "rerun request %q not started: %s", req, why)
		wf.Status.LastHandledRerunRequest = req
		return nil
	}
	wp := plan.Rerun(wf, original, names.Workplan(wf.Name, string(wf.UID), "rerun", req))
	wp.Labels[kubeciv1.LabelRunRequest] = names.RunRequest(req)
	withCleanupFinalizer(wp)
	switch err := r.Create(ctx, wp); {
	case apierrors.IsAlreadyExists(err):
	case err != nil:
		return fmt.Errorf("creating Workplan %s to rerun %s: %w", wp.Name, original.Name, err)
	default:
		workplansCreated.WithLabelValues(string(wp.Spec.Trigger.Event)).Inc()
		r.Recorder.Eventf(wf, wp, corev1.EventTypeNormal, "Rerun", "Rerun", "started Workplan %s, a rerun of %s (%s)",
			wp.Name, original.Name, describeEvent(wp.Spec.Trigger))
	}
	wf.Status.LastHandledRerunRequest = req
	return nil
}

// rerunnable reads the Workplan rerun request req names, or says why it cannot
// be rerun.
func (r *Reconciler) rerunnable(ctx context.Context, wf *kubeciv1.Workflow, req string) (*kubeciv1.Workplan, string, error) {
	name, _, ok := runrequest.ParseRerun(req)
	if !ok {
		return nil, "it is not of the form <workplan>/<id>", nil
	}
	original := &kubeciv1.Workplan{}
	err := r.Get(ctx, client.ObjectKey{Namespace: wf.Namespace, Name: name}, original)
	switch {
	case apierrors.IsNotFound(err):
		return nil, fmt.Sprintf("workplan %s does not exist (any more)", name), nil
	case err != nil:
		return nil, "", err
	}
	return original, rerunRefusal(wf, original), nil
}

// rerunRefusal says why original may not be rerun by wf, or "" when it may:
// it must be a run of this very Workflow (the same name and UID), so that a
// rerun never runs another Workflow's steps under this one's name.
func rerunRefusal(wf *kubeciv1.Workflow, original *kubeciv1.Workplan) string {
	if original.Spec.Workflow != wf.Name {
		return fmt.Sprintf("workplan %s is a run of workflow %s, not of %s", original.Name, original.Spec.Workflow, wf.Name)
	}
	for _, ref := range original.OwnerReferences {
		if ref.Controller != nil && *ref.Controller && ref.UID == wf.UID {
			return ""
		}
	}
	return fmt.Sprintf("workplan %s was not started by this workflow (it belongs to an earlier workflow of the same name)", original.Name)
}
