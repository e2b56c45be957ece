package local

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/trigger"
)

// EnvTriggerObject is the variable holding the path of the file with the
// object that triggered the run, as JSON (see trigger.Record).
const EnvTriggerObject = kubeciv1.EnvTriggerObject

// TriggerObjectMountPath is where container runtimes (oci, docker, podman)
// show the trigger object's file.
const TriggerObjectMountPath = kubeciv1.TriggerObjectDir + "/" + kubeciv1.TriggerObjectFile

// TriggerObject makes a local run behave as one triggered by an update of
// Object (kubeci run --trigger-object): KUBECI_TRIGGER_EVENT=Updated and the
// object's kind, namespace and name, its sanitised JSON in a read-only file
// (KUBECI_TRIGGER_OBJECT), and the value of each of Fields in
// KUBECI_FIELD_<PATH>.
type TriggerObject struct {
	Object *unstructured.Unstructured
	Fields []trigger.FieldPath
}

// event is the run's trigger.
func (t *TriggerObject) event() kubeciv1.TriggerEvent {
	if t == nil {
		return kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}
	}
	return kubeciv1.TriggerEvent{
		Event: kubeciv1.EventUpdated, APIVersion: t.Object.GetAPIVersion(), Kind: t.Object.GetKind(),
		Namespace: t.Object.GetNamespace(), Name: t.Object.GetName(),
		UID: t.Object.GetUID(), ResourceVersion: t.Object.GetResourceVersion(),
	}
}

// triggerFile is the trigger object's file on this machine, in a temporary
// directory of the run.
type triggerFile struct {
	dir, path string
	// fields are KUBECI_FIELD_<PATH>=VALUE for each field the object has.
	fields []string
}

// writeTriggerFile writes the object's snapshot, read-only, to a temporary
// directory of the run; nil when the run has no trigger object.
func writeTriggerFile(t *TriggerObject) (*triggerFile, error) {
	if t == nil {
		return nil, nil
	}
	// What a run on the cluster records: the same sanitising, the same size
	// bound, the same field values.
	rec, err := trigger.Record(t.Object, t.Fields)
	if err != nil {
		return nil, fmt.Errorf("trigger object: %w", err)
	}
	data := []byte(rec.Object)
	dir, err := makeRunTemp("run")
	if err != nil {
		return nil, fmt.Errorf("cannot make a temporary directory for the trigger object: %w", err)
	}
	f := &triggerFile{dir: dir, path: filepath.Join(dir, "object.json")}
	for _, p := range t.Fields {
		if v, found := rec.Fields[p.String()]; found {
			f.fields = append(f.fields, trigger.FieldEnvName(p.String())+"="+v)
		}
	}
	if err := os.WriteFile(f.path, data, 0o444); err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot write the trigger object: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// env is KUBECI_TRIGGER_OBJECT for a step of runtime (the file's path on this
// machine for the host runtime, else where containers see it), then the
// watched fields' variables.
func (f *triggerFile) env(runtime string) []string {
	path := TriggerObjectMountPath
	if runtime == RuntimeHost {
		path = f.path
	}
	return append([]string{EnvTriggerObject + "=" + path}, f.fields...)
}

// mounts show the file to container runtimes.
func (f *triggerFile) mounts() []BundleMount {
	if f == nil {
		return nil
	}
	return []BundleMount{{Source: f.path, Destination: TriggerObjectMountPath, ReadOnly: true}}
}

// Close removes the file and its directory.
func (f *triggerFile) Close() error {
	if f == nil {
		return nil
	}
	return os.RemoveAll(f.dir)
}
