package workplan

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// ensureFinalizer puts the workspace-cleanup finalizer on a Workplan whose
// workspace may still need cleaning, before any pod is created, so that
// deleting the Workplan (or its Workflow) still cleans the node. old, the
// base of the status patch, follows the new metadata.
func (r *Reconciler) ensureFinalizer(ctx context.Context, old, wp *kubeciv1.Workplan) error {
	if controllerutil.ContainsFinalizer(wp, kubeciv1.FinalizerWorkspaceCleanup) || cleanedUp(wp) {
		return nil
	}
	base := wp.DeepCopy()
	controllerutil.AddFinalizer(wp, kubeciv1.FinalizerWorkspaceCleanup)
	if err := r.Client.Patch(ctx, wp, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("adding finalizer %s: %w", kubeciv1.FinalizerWorkspaceCleanup, err)
	}
	old.ObjectMeta = *wp.ObjectMeta.DeepCopy()
	return nil
}

// releaseFinalizer removes the finalizer once the cleanup is over. A
// Workplan being deleted goes away then.
func (r *Reconciler) releaseFinalizer(ctx context.Context, wp *kubeciv1.Workplan) error {
	if !controllerutil.ContainsFinalizer(wp, kubeciv1.FinalizerWorkspaceCleanup) {
		return nil
	}
	base := wp.DeepCopy()
	controllerutil.RemoveFinalizer(wp, kubeciv1.FinalizerWorkspaceCleanup)
	return client.IgnoreNotFound(r.Client.Patch(ctx, wp, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})))
}

// cleanedUp reports whether the Workplan's workspace cleanup is over.
func cleanedUp(wp *kubeciv1.Workplan) bool {
	c := meta.FindStatusCondition(wp.Status.Conditions, kubeciv1.ConditionWorkspaceCleaned)
	return c != nil && cleanupOver(c)
}
