package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Task is one pod of a run: its serial steps run one after another as init
// containers, then its parallel steps run together as the pod's containers.
type Task struct {
	// SerialSteps run in order, each after the previous one succeeded (the design
	// doc's SerialSteps).
	// +optional
	SerialSteps []Step `json:"serialSteps,omitempty"`

	// ParallelSteps run at the same time once every serial step succeeded (the
	// design doc's ParallelSteps).
	// +optional
	ParallelSteps []Step `json:"parallelSteps,omitempty"`
}

// EventType says what started a run.
// +kubebuilder:validation:Enum=Added;Updated;Deleted;Manual
type EventType string

const (
	// EventAdded: a matching object was created, or started matching a selector.
	EventAdded EventType = "Added"
	// EventUpdated: a matching object's content changed.
	EventUpdated EventType = "Updated"
	// EventDeleted: a matching object was deleted.
	EventDeleted EventType = "Deleted"
	// EventManual: someone asked for a run (`kubeci trigger`).
	EventManual EventType = "Manual"
)

// TriggerEvent records what started a run: the event and the object it happened
// to. Object fields are empty for manual runs.
type TriggerEvent struct {
	// Event is Added, Updated, Deleted or Manual.
	// +required
	Event EventType `json:"event"`

	// APIVersion of the object.
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind of the object.
	// +optional
	Kind string `json:"kind,omitempty"`
	// Namespace of the object; empty for cluster-scoped kinds.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the object. It can be empty for an object deleted while the
	// operator was not running, when no trigger names it.
	// +optional
	Name string `json:"name,omitempty"`
	// UID of the object.
	// +optional
	UID types.UID `json:"uid,omitempty"`
	// ResourceVersion of the object as the operator saw it.
	// +optional
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// ResourceGeneration of the object (see Workflow
	// status.lastObservedResourceGeneration); for triggers with fieldPaths,
	// the version of the watched fields it was acted on at.
	// +optional
	ResourceGeneration string `json:"resourceGeneration,omitempty"`

	// Fields are the values of the fields the run's triggers watch
	// (fieldPaths), by path, as the object had them when the run was decided:
	// which commit a run builds, say. Strings are kept as they are, other
	// values as JSON; a field the object lacked is left out. Steps read them as
	// KUBECI_FIELD_<PATH> variables.
	// +optional
	// +kubebuilder:validation:MaxProperties=64
	Fields map[string]string `json:"fields,omitempty"`

	// Object is the object as it was when the run was decided (its last known
	// state for a deleted one), as JSON, without metadata.managedFields and,
	// for a Secret, without data and stringData. Steps read it from the file
	// named by KUBECI_TRIGGER_OBJECT. An object larger than 128 KiB is reduced
	// to its identity, labels and watched fields (objectReduced says so).
	// +optional
	// +kubebuilder:validation:MaxLength=131072
	Object string `json:"object,omitempty"`

	// ObjectReduced, when set, says why object is not the whole object.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	ObjectReduced string `json:"objectReduced,omitempty"`
}

// WorkplanSpec is one run of a Workflow, fixed when the run is created: later
// changes to the Workflow do not change runs already started, and nobody can
// change a run's steps (a user allowed to cancel runs could otherwise run other
// containers under the Workflow's ServiceAccount).
// +kubebuilder:validation:XValidation:rule="self.workflow == oldSelf.workflow && self.tasks == oldSelf.tasks && self.trigger == oldSelf.trigger && has(self.serviceAccountName) == has(oldSelf.serviceAccountName) && (!has(self.serviceAccountName) || self.serviceAccountName == oldSelf.serviceAccountName) && has(self.activeDeadlineSeconds) == has(oldSelf.activeDeadlineSeconds) && (!has(self.activeDeadlineSeconds) || self.activeDeadlineSeconds == oldSelf.activeDeadlineSeconds) && has(self.rerunOf) == has(oldSelf.rerunOf) && (!has(self.rerunOf) || self.rerunOf == oldSelf.rerunOf)",message="a Workplan's spec is fixed when it is created: only spec.cancelled may be set"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.cancelled) || !oldSelf.cancelled || (has(self.cancelled) && self.cancelled)",message="a cancelled Workplan cannot be resumed"
type WorkplanSpec struct {
	// Workflow is the name of the Workflow this run belongs to (also its owner).
	// +required
	// +kubebuilder:validation:MinLength=1
	Workflow string `json:"workflow"`

	// Tasks run in order, one pod each, all on the same node.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +listType=atomic
	Tasks []Task `json:"tasks"`

	// Trigger records what started this run.
	// +required
	Trigger TriggerEvent `json:"trigger"`

	// ServiceAccountName the run's pods use, copied from the Workflow.
	// Defaults to "default".
	// +optional
	// +kubebuilder:default=default
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// ActiveDeadlineSeconds bounds the run's duration, counted from the
	// Workplan's creation; copied from the Workflow.
	// +optional
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`

	// RerunOf names the Workplan this run repeats, when it was started by a
	// rerun request (kubeci rerun): it has that run's trigger and tasks.
	// +optional
	RerunOf string `json:"rerunOf,omitempty"`

	// Cancelled stops the run: the Workplan ends Failed with reason Cancelled,
	// and its running pod is stopped (its containers get their termination
	// grace period) but kept, with its logs; a pod that had not started yet is
	// deleted. Setting it is the only change users make to a Workplan.
	// +optional
	Cancelled bool `json:"cancelled,omitempty"`
}

// WorkplanPhase is where a run stands.
// +kubebuilder:validation:Enum=Pending;Running;Completed;Failed
type WorkplanPhase string

const (
	// WorkplanPending: no pod of the run has started yet.
	WorkplanPending WorkplanPhase = "Pending"
	// WorkplanRunning: a task's pod is running.
	WorkplanRunning WorkplanPhase = "Running"
	// WorkplanCompleted: every task succeeded.
	WorkplanCompleted WorkplanPhase = "Completed"
	// WorkplanFailed: a step failed, or the run was cancelled, overdue or lost.
	WorkplanFailed WorkplanPhase = "Failed"
)

// Finished reports whether the phase is final.
func (p WorkplanPhase) Finished() bool {
	return p == WorkplanCompleted || p == WorkplanFailed
}

// StepPhase is where one step stands.
// +kubebuilder:validation:Enum=Waiting;Running;Succeeded;Failed;Skipped
type StepPhase string

const (
	// StepWaiting: the step has not started.
	StepWaiting StepPhase = "Waiting"
	// StepRunning: the step's container is running.
	StepRunning StepPhase = "Running"
	// StepSucceeded: the step's container exited 0.
	StepSucceeded StepPhase = "Succeeded"
	// StepFailed: the step's container exited non-zero or could not run.
	StepFailed StepPhase = "Failed"
	// StepSkipped: the run ended before the step could start.
	StepSkipped StepPhase = "Skipped"
)

// StepStatus is the state of one step of a run.
type StepStatus struct {
	// Name of the step.
	Name string `json:"name"`
	// Task is the index of the task holding the step.
	Task int32 `json:"task"`
	// Phase of the step.
	Phase StepPhase `json:"phase"`
	// ExitCode of the step's container once it terminated.
	// +optional
	ExitCode *int32 `json:"exitCode,omitempty"`
	// Message explains a failure (for example an image that cannot be pulled).
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
	// StartTime is when the step's container started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// FinishTime is when the step's container terminated.
	// +optional
	FinishTime *metav1.Time `json:"finishTime,omitempty"`
}

// WorkplanStatus is what the operator observed of a run. It is bounded: one
// entry per step, and a fixed set of conditions.
type WorkplanStatus struct {
	// ObservedGeneration is the Workplan generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase is Pending, Running, Completed or Failed.
	// +optional
	Phase WorkplanPhase `json:"phase,omitempty"`

	// Reason says what happened last: which step failed and how, or why the run
	// was stopped.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	Reason string `json:"reason,omitempty"`

	// TaskIndex is the index of the current (or last) task.
	// +optional
	TaskIndex int32 `json:"taskIndex"`

	// NodeName is the node every pod of this run is placed on, recorded once the
	// first pod is bound.
	// +optional
	NodeName string `json:"nodeName,omitempty"`
	// PodName is the pod of the current task, recorded once the operator has
	// created it (`kubectl logs <podName> -c <step>` shows a step's output). A
	// recorded pod that no longer exists before its task ended was deleted from
	// outside, which fails the run.
	// +optional
	PodName string `json:"podName,omitempty"`

	// StartTime is when the first pod of the run started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// CompletionTime is when the run reached Completed or Failed.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`

	// Steps holds one entry per step, in plan order.
	// +optional
	// +listType=atomic
	Steps []StepStatus `json:"steps,omitempty"`

	// Conditions: Succeeded (the run's outcome) and WorkspaceCleaned (the node's
	// workspace directory has been removed).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Workplan is one run of a Workflow: its steps resolved into ordered tasks.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wp,categories=kubeci
// +kubebuilder:printcolumn:name="Workflow",type=string,JSONPath=`.spec.workflow`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Task",type=integer,JSONPath=`.status.taskIndex`
// +kubebuilder:printcolumn:name="Trigger",type=string,priority=1,JSONPath=`.spec.trigger.event`
// +kubebuilder:printcolumn:name="Fields",type=string,priority=1,JSONPath=`.spec.trigger.fields`
// +kubebuilder:printcolumn:name="Reason",type=string,priority=1,JSONPath=`.status.reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Workplan struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WorkplanSpec   `json:"spec"`
	Status WorkplanStatus `json:"status,omitempty"`
}

// WorkplanList is a list of Workplans.
// +kubebuilder:object:root=true
type WorkplanList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Workplan `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Workplan{}, &WorkplanList{})
}
