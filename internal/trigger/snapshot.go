package trigger

import (
	"encoding/json"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// lastApplied is the annotation kubectl apply keeps the whole applied object
// in: for a Secret, its data.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// Snapshot is the object a run's steps may read (KUBECI_TRIGGER_OBJECT), as
// JSON: without metadata.managedFields, and for a core/v1 Secret without its
// data, stringData and last-applied-configuration annotation.
//
// This minimal version was written for kubeci run's --trigger-object; issue
// 13's version, with the same signature, replaces it.
func Snapshot(obj *unstructured.Unstructured) ([]byte, error) {
	obj = obj.DeepCopy()
	unstructured.RemoveNestedField(obj.Object, "metadata", "managedFields")
	if obj.GetAPIVersion() == "v1" && obj.GetKind() == "Secret" {
		unstructured.RemoveNestedField(obj.Object, "data")
		unstructured.RemoveNestedField(obj.Object, "stringData")
		unstructured.RemoveNestedField(obj.Object, "metadata", "annotations", lastApplied)
		if len(obj.GetAnnotations()) == 0 {
			unstructured.RemoveNestedField(obj.Object, "metadata", "annotations")
		}
	}
	return json.Marshal(obj.Object)
}
