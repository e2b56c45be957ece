package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxSteps is the most steps a Workflow may list. It keeps the CRD's validation
// rules cheap and every task's pod well inside the API server's object size limit.
const MaxSteps = 64

// Step is one container of a Workflow. The fields name, image, commands, args and
// dependency are the design doc's; env, workingDir and resources are additions
// that users of container steps expect.
type Step struct {
	// Name identifies the step inside its Workflow. It becomes a container name,
	// so it must be a DNS-1123 label: lower case letters, digits and '-', at most
	// 63 characters, starting and ending with a letter or digit.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`

	// Image is the container image the step runs.
	// +required
	// +kubebuilder:validation:MinLength=1
	Image string `json:"image"`

	// Commands is the container's entrypoint (a pod's `command`). When empty the
	// image's entrypoint runs. A step needs commands, args or both.
	// +optional
	Commands []string `json:"commands,omitempty"`

	// Args are the arguments to the entrypoint (a pod's `args`).
	// +optional
	Args []string `json:"args,omitempty"`

	// Dependency names the steps that must finish successfully before this one
	// starts.
	// +optional
	// +kubebuilder:validation:MaxItems=63
	// +kubebuilder:validation:items:MaxLength=63
	Dependency []string `json:"dependency,omitempty"`

	// Env adds environment variables to the step's container, next to the KUBECI_*
	// variables Kube CI always sets.
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`

	// WorkingDir is the container's working directory. Empty means the image's.
	// +optional
	WorkingDir string `json:"workingDir,omitempty"`

	// Resources are the compute resources the step's container requests and is
	// limited to.
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
}

// Trigger selects Kubernetes objects whose changes start a run of the Workflow.
// The kind is named by apiVersion plus kind, or apiVersion plus resource (the
// plural name used in API paths); when both are given they must agree.
// +kubebuilder:validation:XValidation:rule="has(self.kind) || has(self.resource)",message="a trigger needs kind or resource"
type Trigger struct {
	// APIVersion is the group/version of the watched kind, for example "v1" or
	// "apps/v1".
	// +required
	// +kubebuilder:validation:MinLength=1
	APIVersion string `json:"apiVersion"`

	// Kind of the watched objects, for example "ConfigMap".
	// +optional
	Kind string `json:"kind,omitempty"`

	// Resource is the plural resource name of the watched objects, for example
	// "configmaps".
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Resource string `json:"resource,omitempty"`

	// Namespace to watch. Empty means the Workflow's own namespace. Ignored for
	// cluster-scoped kinds.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Name, when set, limits the trigger to the object of exactly this name.
	// +optional
	Name string `json:"name,omitempty"`

	// Selector limits the trigger to objects whose labels match. Empty or absent
	// matches every object.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`

	// OnAddOrUpdate runs the Workflow when a matching object is created, when its
	// content changes, or when an existing object starts matching the selector.
	// +optional
	OnAddOrUpdate bool `json:"onAddOrUpdate,omitempty"`

	// OnDelete runs the Workflow when a matching object is deleted.
	// +optional
	OnDelete bool `json:"onDelete,omitempty"`

	// FieldPaths, when set, are the only fields of a matching object whose
	// changes start a run: dotted paths from the object's root, status
	// included, for example "status.artifact.revision" (a Flux GitRepository's
	// commit); ["key"] for keys holding dots and [N] for list items. A run
	// starts when one of them gets a value it did not have (absent to present
	// counts; present to absent does not); nothing else about the object
	// counts. Each run records their values (Workplan spec.trigger.fields) and
	// its steps read them as KUBECI_FIELD_<PATH> variables. Without fieldPaths
	// every real change of the object counts.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=256
	FieldPaths []string `json:"fieldPaths,omitempty"`
}

// WorkflowSpec is what a Workflow runs and what starts it.
type WorkflowSpec struct {
	// Steps are the containers to run. Their dependencies must form a DAG; the
	// operator resolves it into ordered tasks (see Workplan).
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:XValidation:rule="self.all(s, self.exists_one(t, t.name == s.name))",message="step names must be unique (kubeci validate names the repeated ones)"
	// +kubebuilder:validation:XValidation:rule="self.all(s, !has(s.dependency) || s.dependency.all(d, self.exists(t, t.name == d)))",message="every dependency must name a step of this workflow (kubeci validate names the unknown ones)"
	Steps []Step `json:"steps"`

	// Triggers are the Kubernetes objects whose changes start a run. A Workflow
	// without triggers runs only when asked to (`kubeci trigger`).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	Triggers []Trigger `json:"triggers,omitempty"`

	// ServiceAccountName is the ServiceAccount the Workflow's pods run as. The
	// operator watches a trigger's objects only if this ServiceAccount may list and
	// watch them. Defaults to "default".
	// +optional
	// +kubebuilder:default=default
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// ActiveDeadlineSeconds bounds how long one run may take, from the creation
	// of its Workplan (so time spent waiting for a node or pulling images counts,
	// as for a Job) until its last task ends; an overdue run ends Failed with
	// reason DeadlineExceeded.
	// +optional
	// +kubebuilder:validation:Minimum=1
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`

	// SuccessfulRunsHistoryLimit is how many Completed Workplans to keep; older
	// ones are deleted with their pods. Defaults to 10.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	SuccessfulRunsHistoryLimit *int32 `json:"successfulRunsHistoryLimit,omitempty"`

	// FailedRunsHistoryLimit is how many Failed Workplans to keep. Defaults to 10.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	FailedRunsHistoryLimit *int32 `json:"failedRunsHistoryLimit,omitempty"`
}

// WorkflowStatus is what the operator last observed and did for a Workflow.
type WorkflowStatus struct {
	// ObservedGeneration is the Workflow generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// LastObservedGeneration is the Workflow generation whose triggers are being
	// watched. Zero means nothing is watched (for example the spec is invalid).
	// +optional
	LastObservedGeneration int64 `json:"lastObservedGeneration,omitempty"`

	// LastObservedResourceGeneration maps the UID of each object that matches a
	// trigger to the resource generation last acted on. The resource generation
	// is the object's metadata.generation, written in decimal, for kinds that
	// have one (Deployments, custom resources with a status subresource), so that
	// status-only updates never start a run. Kinds without metadata.generation
	// (ConfigMaps, Secrets) get "h:" followed by a hash of the object without its
	// metadata and status, so label, annotation and resourceVersion changes do
	// not start a run either. The hash is one-way; no object data is copied.
	// Entries of deleted objects are removed.
	//
	// This is the whole record only while it is small: while RecordShards is
	// zero, for at most 100 objects. A larger record is kept in TriggerRecord
	// objects owned by the Workflow (RecordShards says how many, each holding
	// the objects whose UID hashes to it), and this field is then empty: the
	// API server rewrites the whole Workflow on each decision that records a
	// change, so the Workflow holds at most some 6 KiB of record, and a change
	// rewrites one shard of at most 500 entries whatever the number of watched
	// objects. See docs/triggers.md.
	// +optional
	// +mapType=atomic
	LastObservedResourceGeneration map[string]string `json:"lastObservedResourceGeneration,omitempty"`

	// RecordShards is how many TriggerRecord shards hold the record of
	// acted-on changes: zero while it fits in LastObservedResourceGeneration
	// (at most 100 objects), else a power of two, grown (never shrunk) so that
	// no shard holds more than 500 entries, at most 2,048 shards (512,000
	// objects).
	// +optional
	RecordShards int32 `json:"recordShards,omitempty"`

	// ObservedTriggers identifies the trigger list (a hash of spec.triggers) that
	// LastObservedResourceGeneration was recorded for. When the triggers change,
	// objects that already existed are recorded without starting a run.
	// +optional
	ObservedTriggers string `json:"observedTriggers,omitempty"`

	// LastHandledRunRequest is the value of the kube.ci/run-request annotation the
	// operator last answered with a manual run.
	// +optional
	LastHandledRunRequest string `json:"lastHandledRunRequest,omitempty"`

	// LastHandledRerunRequest is the value of the kube.ci/rerun-request
	// annotation the operator last answered, with a rerun or a refusal (an
	// event says why).
	// +optional
	LastHandledRerunRequest string `json:"lastHandledRerunRequest,omitempty"`

	// Conditions describe the Workflow's state. Ready is True when the spec is
	// valid and every trigger is being watched.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// Workflow runs container steps in a Kubernetes cluster whenever objects it
// watches change.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wf,categories=kubeci
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Workflow struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   WorkflowSpec   `json:"spec"`
	Status WorkflowStatus `json:"status,omitempty"`
}

// WorkflowList is a list of Workflows.
// +kubebuilder:object:root=true
type WorkflowList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Workflow `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Workflow{}, &WorkflowList{})
}
