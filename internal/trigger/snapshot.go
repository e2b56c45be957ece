package trigger

import (
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// MaxObjectBytes is the most a run records of its trigger's object: it is kept
// in the Workplan's spec and in an annotation of each of the run's pods, whose
// annotations may hold 256 KiB in all.
const MaxObjectBytes = 128 << 10

// MaxFieldValueBytes is the most a run records of one watched field's value.
const MaxFieldValueBytes = 4 << 10

// lastApplied is the annotation kubectl apply keeps the applied object in.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// Sanitize returns a copy of obj as steps may see it: without
// metadata.managedFields and, for a Secret, without data, stringData and the
// annotation holding what kubectl applied (which holds the data too). Nothing
// else is removed.
func Sanitize(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[k] = v
	}
	meta, _ := obj["metadata"].(map[string]any)
	if meta != nil {
		m := make(map[string]any, len(meta))
		for k, v := range meta {
			if k != "managedFields" {
				m[k] = v
			}
		}
		out["metadata"] = m
	}
	if isSecret(obj) {
		delete(out, "data")
		delete(out, "stringData")
		if meta, ok := out["metadata"].(map[string]any); ok {
			if ann, ok := meta["annotations"].(map[string]any); ok {
				kept := make(map[string]any, len(ann))
				for k, v := range ann {
					if k != lastApplied {
						kept[k] = v
					}
				}
				meta["annotations"] = kept
			}
		}
	}
	return out
}

// SecretDataPath reports whether p, on a Secret, reads what Sanitize removes.
func SecretDataPath(p FieldPath) bool {
	switch p.root() {
	case "data", "stringData":
		return true
	case "metadata":
		return len(p.segments) >= 3 && p.segments[1].key == "annotations" && p.segments[2].key == lastApplied
	}
	return false
}

// isSecret reports whether obj is a core Secret.
func isSecret(obj map[string]any) bool {
	return obj["apiVersion"] == "v1" && obj["kind"] == "Secret"
}

// Recorded is what a run records of its trigger's object.
type Recorded struct {
	// Object is the sanitized object as JSON, or, when that is larger than
	// MaxObjectBytes, only its identity, labels and watched fields.
	Object string
	// Fields are the watched fields' values (FieldValueString), by path; a
	// field the object lacks is left out.
	Fields map[string]string
	// Reduced, when not empty, says why Object is not the whole object.
	Reduced string
}

// Record describes obj for a run started by it: the sanitized object and the
// values of paths. Values are read from the sanitized object, so nothing
// Sanitize removes can reach a run through a field either.
func Record(obj *unstructured.Unstructured, paths []FieldPath) (Recorded, error) {
	clean := Sanitize(obj.Object)
	rec := Recorded{}
	for _, p := range paths {
		v, ok := p.Lookup(clean)
		if !ok {
			continue
		}
		if rec.Fields == nil {
			rec.Fields = map[string]string{}
		}
		rec.Fields[p.String()] = kubeciv1.TruncateMessage(FieldValueString(v), MaxFieldValueBytes)
	}
	data, err := json.Marshal(clean)
	if err != nil {
		return Recorded{}, err
	}
	if len(data) <= MaxObjectBytes {
		rec.Object = string(data)
		return rec, nil
	}
	rec.Reduced = fmt.Sprintf("the object is %d bytes, more than the %d a run records: the file holds its apiVersion, kind, metadata (without annotations) and watched fields only", len(data), MaxObjectBytes)
	reduced := reduce(clean, paths, true)
	if data, err = json.Marshal(reduced); err == nil && len(data) > MaxObjectBytes {
		rec.Reduced = fmt.Sprintf("the object is %d bytes, more than the %d a run records, and so are its labels: the file holds its apiVersion, kind, name, namespace and UID only", len(data), MaxObjectBytes)
		data, err = json.Marshal(reduce(clean, nil, false))
	}
	if err != nil {
		return Recorded{}, err
	}
	rec.Object = string(data)
	return rec, nil
}

// reduce keeps obj's identity, its metadata without annotations (labels only
// when withLabels) and the values of paths.
func reduce(obj map[string]any, paths []FieldPath, withLabels bool) map[string]any {
	out := map[string]any{"apiVersion": obj["apiVersion"], "kind": obj["kind"]}
	meta, _ := obj["metadata"].(map[string]any)
	m := map[string]any{}
	keep := []string{"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp"}
	if withLabels {
		keep = append(keep, "labels")
	}
	for _, k := range keep {
		if v, ok := meta[k]; ok {
			m[k] = v
		}
	}
	out["metadata"] = m
	for _, p := range paths {
		if p.root() == "metadata" {
			continue
		}
		if v, ok := p.Lookup(obj); ok {
			p.set(out, v)
		}
	}
	return out
}

// EventOf is the record of what started the run of f: the event, the object's
// identity, and what Record keeps of its state (for an object deleted while
// nobody watched, only its identity is known).
func EventOf(f Fire) (kubeciv1.TriggerEvent, error) {
	o := f.Object
	ev := kubeciv1.TriggerEvent{Event: f.Event, APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace,
		Name: o.Name, UID: o.UID, ResourceVersion: o.ResourceVersion, ResourceGeneration: o.Generation}
	src := o.Source
	if src == nil {
		src = &unstructured.Unstructured{}
		src.SetAPIVersion(o.APIVersion)
		src.SetKind(o.Kind)
		src.SetNamespace(o.Namespace)
		src.SetName(o.Name)
		src.SetUID(o.UID)
	}
	rec, err := Record(src, o.Paths)
	if err != nil {
		return kubeciv1.TriggerEvent{}, err
	}
	ev.Object, ev.Fields, ev.ObjectReduced = rec.Object, rec.Fields, rec.Reduced
	return ev, nil
}
