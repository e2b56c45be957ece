package v1alpha1

// Condition types.
const (
	// ConditionReady on a Workflow is True when its spec is valid and every
	// trigger is being watched.
	ConditionReady = "Ready"

	// ConditionSucceeded on a Workplan is Unknown while the run goes on, then True
	// (Completed) or False (Failed), with the reason of the outcome.
	ConditionSucceeded = "Succeeded"

	// ConditionWorkspaceCleaned on a Workplan is True once the run's workspace
	// directory has been removed from its node (or there was none), False while
	// the cleanup is pending or failing.
	ConditionWorkspaceCleaned = "WorkspaceCleaned"
)

// Reasons of a Workflow's Ready condition.
const (
	// ReasonWatching: the spec is valid and every trigger is watched.
	ReasonWatching = "Watching"
	// ReasonInvalidSpec: the spec has errors; the message lists every one.
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonUnknownResource: a trigger names a kind the API server does not
	// serve (yet). The operator retries on its own, for example once a CRD is
	// installed.
	ReasonUnknownResource = "UnknownResource"
	// ReasonForbidden: the Workflow's ServiceAccount may not list and watch a
	// trigger's objects, so nothing is watched.
	ReasonForbidden = "Forbidden"
	// ReasonWatchFailed: the operator could not start or keep a watch, for
	// example because its own RBAC does not cover the kind.
	ReasonWatchFailed = "WatchFailed"
	// ReasonTooManyObjects: the triggers match more objects than the
	// Workflow's record of acted-on changes can hold (512,000: 1,024
	// TriggerRecord shards kept half full); the message gives the numbers.
	// Nothing runs until the triggers are narrowed.
	ReasonTooManyObjects = "TooManyObjects"
)

// Reasons of a Workplan's Succeeded condition (also used in status.reason and
// events).
const (
	// ReasonRunning: the run is going on.
	ReasonRunning = "Running"
	// ReasonCompleted: every step succeeded.
	ReasonCompleted = "Completed"
	// ReasonStepFailed: a step exited non-zero or could not start.
	ReasonStepFailed = "StepFailed"
	// ReasonCancelled: spec.cancelled was set.
	ReasonCancelled = "Cancelled"
	// ReasonDeadlineExceeded: the run took longer than activeDeadlineSeconds.
	ReasonDeadlineExceeded = "DeadlineExceeded"
	// ReasonPodLost: a task's pod was deleted or evicted from outside, or its node
	// went away.
	ReasonPodLost = "PodLost"
	// ReasonUnschedulable: no node could take the task's pod within the grace
	// period.
	ReasonUnschedulable = "Unschedulable"
	// ReasonPodRejected: the API server refused to create a task's pod (for
	// example Pod Security admission forbidding hostPath volumes).
	ReasonPodRejected = "PodRejected"
)

// Reasons of a Workplan's WorkspaceCleaned condition.
const (
	// ReasonCleanupPending: the cleanup pod has not finished yet.
	ReasonCleanupPending = "CleanupPending"
	// ReasonCleanupFailed: the cleanup pod failed; it is retried.
	ReasonCleanupFailed = "CleanupFailed"
	// ReasonCleaned: the workspace directory was removed.
	ReasonCleaned = "Cleaned"
	// ReasonNothingToClean: no pod of the run ever reached a node.
	ReasonNothingToClean = "NothingToClean"
	// ReasonCleanupAbandoned: the operator gave up removing the workspace, for
	// example because its node was deleted or stayed NotReady past the grace
	// period, the cleanup pod could not start, or every retry failed. The
	// message says why and which directory on which node is left behind; the
	// Workplan's finalizer is released so that nothing stays stuck.
	ReasonCleanupAbandoned = "CleanupAbandoned"
)
