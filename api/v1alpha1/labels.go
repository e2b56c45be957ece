package v1alpha1

// Labels Kube CI puts on the objects it creates, and annotations users set.
const (
	// LabelWorkflow on a Workplan and its pods: the Workflow's name (shortened
	// with a hash suffix when longer than a label value may be).
	LabelWorkflow = "kube.ci/workflow"
	// LabelWorkplan on a pod: its Workplan's name (shortened likewise).
	LabelWorkplan = "kube.ci/workplan"
	// LabelTask on a pod: the index of the task it runs, or "cleanup".
	LabelTask = "kube.ci/task"
	// LabelRunRequest on a Workplan started by hand: the request it answers.
	LabelRunRequest = "kube.ci/run-request"
	// LabelRerunOf on a Workplan started by a rerun request: the name (as a
	// label value) of the run it repeats; spec.rerunOf holds the full name.
	LabelRerunOf = "kube.ci/rerun-of"

	// AnnotationRunRequest on a Workflow asks the operator for a manual run. Any
	// new value (kubeci trigger writes a unique one) starts exactly one run; the
	// operator records the value it answered in status.lastHandledRunRequest.
	AnnotationRunRequest = "kube.ci/run-request"

	// AnnotationRerunRequest on a Workflow asks the operator to run one of its
	// runs again: the value is "<workplan>/<nonce>" (kubeci rerun and the
	// dashboard write a unique nonce). Any new value starts exactly one run,
	// with the original run's trigger and tasks; the operator records the value
	// it answered in status.lastHandledRerunRequest.
	AnnotationRerunRequest = "kube.ci/rerun-request"
	// AnnotationTriggerObject on a task pod holds its run's trigger object
	// (Workplan spec.trigger.object), which the pod's steps read as a file.
	AnnotationTriggerObject = "kube.ci/trigger-object"
	// TriggerObjectDir is where every step sees the folder holding its run's
	// trigger object, and TriggerObjectFile the file's name in it.
	TriggerObjectDir  = "/kubeci-trigger"
	TriggerObjectFile = "object.json"

	// WorkspaceMountPath is where every step sees its run's shared workspace.
	WorkspaceMountPath = "/kubeci"
	// FinalizerWorkspaceCleanup on a Workplan keeps it until the workspace
	// directory on its node has been removed (or the operator gave up, saying
	// why in the WorkspaceCleaned condition), so that deleting a running
	// Workplan, or its Workflow, still cleans the node.
	FinalizerWorkspaceCleanup = "kube.ci/workspace-cleanup"
)

// Environment variables every step's container gets.
const (
	EnvWorkflow         = "KUBECI_WORKFLOW"
	EnvWorkplan         = "KUBECI_WORKPLAN"
	EnvNamespace        = "KUBECI_NAMESPACE"
	EnvTask             = "KUBECI_TASK"
	EnvStep             = "KUBECI_STEP"
	EnvTriggerEvent     = "KUBECI_TRIGGER_EVENT"
	EnvTriggerKind      = "KUBECI_TRIGGER_KIND"
	EnvTriggerNamespace = "KUBECI_TRIGGER_NAMESPACE"
	EnvTriggerName      = "KUBECI_TRIGGER_NAME"
	EnvWorkspace        = "KUBECI_WORKSPACE"
	// EnvTriggerObject is the path of the file holding the trigger's object as
	// JSON; set only when the run has one (not for manual runs).
	EnvTriggerObject = "KUBECI_TRIGGER_OBJECT"
	// EnvFieldPrefix starts the variables holding watched fields' values
	// (KUBECI_FIELD_STATUS_ARTIFACT_REVISION for status.artifact.revision).
	EnvFieldPrefix = "KUBECI_FIELD_"
)
