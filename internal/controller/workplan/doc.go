// Package workplan is the controller that runs Workplans: each task of a run
// as a pod, all on one node sharing a hostPath workspace, its status derived
// from those pods, and the workspace removed from the node when the run ends.
//
// # Lifecycle of a Workplan
//
//  1. Finalizer. Before the first pod is created the Workplan has the
//     kube.ci/workspace-cleanup finalizer, so that a Workplan deleted while it
//     runs (or with its Workflow) still has its workspace cleaned. The
//     Workflow controller creates Workplans with it; this controller adds it
//     (one more request) to a Workplan created otherwise, by kubectl for
//     instance.
//
//  2. Tasks. Task i runs in pod <workplan>-task-<i> (names.TaskPod), created
//     only once task i-1's pod has succeeded: serial steps are init
//     containers in order, parallel steps are containers. Every container
//     mounts the workspace, a hostPath folder of type DirectoryOrCreate at
//     <root>/<namespace>/<workflow>/<workplan> on the node, at /kubeci. Pods
//     run as the Workplan's serviceAccountName ("default" when empty) with
//     restartPolicy Never, carry the kube.ci/workflow, kube.ci/workplan and
//     kube.ci/task labels, and are controlled by the Workplan.
//
//  3. One node. The scheduler places the first pod. Once it is bound its
//     node is recorded in status.nodeName, and every later pod, and the
//     cleanup pod, gets a required node affinity to it. The affinity matches
//     the field metadata.name (as the DaemonSet controller does), not the
//     kubernetes.io/hostname label: the run records a node's name, and on
//     some clouds the hostname label differs from it. The scheduler still
//     checks resources and taints; spec.nodeName is never set directly.
//
//  4. Status. Phase is Pending until a step starts, then Running, and ends
//     Completed when the last task's pod succeeds, or Failed when a step
//     exits non-zero, a pod is deleted or evicted from outside, the API
//     server refuses a pod (Forbidden or Invalid; an exceeded ResourceQuota
//     is retried instead), a pod stays unschedulable, an image cannot be
//     pulled, or the node is lost (the last three after the grace periods of
//     Options). status.reason says which step failed, how and with which exit
//     code; status.steps holds one entry per step with its phase, exit code,
//     message and times; the Succeeded condition is Unknown while the run
//     goes on, then True or False with the reason.
//
//  5. Stopping. spec.cancelled, the Workplan's deletion, or
//     activeDeadlineSeconds (counted from the Workplan's creation, like a
//     Job's) end the run Failed with reason Cancelled or DeadlineExceeded, and
//     the running pod is stopped but kept, with its logs: it gets an
//     activeDeadlineSeconds it has already passed, so the kubelet stops its
//     containers (they get their grace period) and the pod ends Failed. A pod
//     that never started has nothing to keep and is deleted (stopPod).
//
//  6. Cleanup. The last task's pod carries the workspace cleaner (unless
//     Options.NoWorkspaceCleaner, for clusters without native sidecars): a native
//     sidecar (its first init container, restartPolicy Always) running the
//     operator's cleanup subcommand with --on-sigterm from Kube CI's own image
//     (Options.CleanupImage) as root, mounting the workflow's folder. The
//     kubelet starts it before the steps and, once they have all exited (or
//     the pod is stopped or deleted, after the steps), sends it SIGTERM: it
//     then removes the workspace folder, dotfiles included, and nothing else,
//     and exits 0 only if the folder is gone. It is no step: not in
//     status.steps, and neither its start nor its exit code changes the run's
//     phase or verdict (a cleaner that cannot start counts as a step that
//     cannot start, so that the run does not wait forever). When the last
//     task's pod has ended with the cleaner exited 0, the WorkspaceCleaned
//     condition turns True (Cleaned) in the same status write that records
//     the run's end: no cleanup pod. In every other case (the run ended before
//     its last task's pod ran, that pod was deleted or lost, its cleaner
//     failed or its status says nothing of it), once the run has ended and
//     its pods have stopped, a cleanup pod (the same image and subcommand,
//     without --on-sigterm) on the run's node removes the workspace folder;
//     it is then deleted and the WorkspaceCleaned condition turns True
//     (Cleaned). When no pod ever
//     reached a node there is nothing to clean (NothingToClean). A failing
//     cleanup pod is retried after a doubling backoff and reported
//     (CleanupFailed, with an Event); after Options.CleanupAttempts failures,
//     or when the node is deleted or NotReady past its grace period, or a
//     cleanup pod cannot be scheduled or started, the cleanup is abandoned
//     (CleanupAbandoned, with an Event naming the folder left behind). Either
//     way the finalizer is then released, so nothing waits forever. Cleanup
//     pods are not owned by the Workplan (a foreground deletion would have
//     the garbage collector remove them before they ran); annotations tie
//     them to it, and the controller deletes them before the finalizer goes.
//
//  7. History. Once a run has ended, the Workflow controller (package
//     workflow, which a run's end wakes up) deletes the oldest ended runs of
//     the Workflow beyond successfulRunsHistoryLimit and
//     failedRunsHistoryLimit (10 and 10 by default), their pods with them;
//     this controller's finalizer sees to their workspace first.
//
// # Level-triggered
//
// Every reconcile derives the next step from the Workplan and its pods alone
// (decideRun and decideCleanup are pure functions of them), so an operator
// restarted at any moment resumes where the run stood. Pod names are
// deterministic, so a create repeated after a restart finds the pod it made
// before instead of making a second one. The status records the current
// task's pod (status.podName) once it is created: if that pod then
// disappears (confirmed with an uncached read, as the cache may lag behind a
// create) it was deleted from outside, and the run fails rather than
// silently running the task again. The status is patched once per reconcile
// with an optimistic lock; Events and metrics are derived from the change
// between the saved and the new status after the patch succeeds. Events are
// kept for what a person needs told (a failed step, a failed, cancelled or
// completed run, cleanup trouble): placement and task starts are in the
// status, and a run that ends and is cleaned in one write gets one Completed
// Event saying both (events.go). A run that
// ends has its pods stopped only once that end is saved, so that a reconcile
// working from a stale cache can never mistake the controller's own
// deletion for one from outside.
//
// # Files
//
// controller.go wires the controller and holds Reconcile; observe.go gathers
// the pods and the node; run.go, podstate.go, steps.go and cancel.go decide
// the run; task.go applies that decision; pods.go builds the pods;
// cleanup.go decides and runs the cleanup; finalizer.go, events.go and
// metrics.go do what their names say; node.go follows nodes.
package workplan
