package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LabelWorkflowUID on a TriggerRecord: the UID of the Workflow it belongs to,
// so that the records of a deleted Workflow and those of a new one of the same
// name are never mixed up.
const LabelWorkflowUID = "kube.ci/workflow-uid"

// TriggerRecord holds one shard of a Workflow's record of acted-on changes,
// when the record is too large for the Workflow's status (see
// WorkflowStatus.RecordShards). It is written by the operator only, owned by
// its Workflow (deleting the Workflow deletes it) and named
// <workflow>-record-<shard>.
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=kubeci
// +kubebuilder:printcolumn:name="Workflow",type=string,JSONPath=`.workflow`
// +kubebuilder:printcolumn:name="Shard",type=integer,JSONPath=`.shard`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TriggerRecord struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Workflow is the name of the Workflow this shard belongs to.
	Workflow string `json:"workflow"`

	// Shard is this shard's index: it holds the entries of the objects whose
	// UID hashes to it modulo the Workflow's status.recordShards. Entries that
	// hash elsewhere (left by a split of the record) are ignored.
	// +kubebuilder:validation:Minimum=0
	Shard int32 `json:"shard"`

	// Entries map object UIDs to the version last acted on, as
	// status.lastObservedResourceGeneration does for small records. The map
	// is atomic: the API server's managed fields name the field, not each
	// entry, which would double the size of every write.
	// +optional
	// +mapType=atomic
	Entries map[string]string `json:"entries,omitempty"`
}

// TriggerRecordList is a list of TriggerRecords.
// +kubebuilder:object:root=true
type TriggerRecordList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TriggerRecord `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TriggerRecord{}, &TriggerRecordList{})
}
