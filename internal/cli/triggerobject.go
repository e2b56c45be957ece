package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/local"
	"github.com/kubeci/kubeci/internal/trigger"
)

// loadTriggerObject reads --trigger-object (YAML or JSON of any Kubernetes
// object, at most maxInput bytes) and parses the --field paths, by default
// those the triggers on the object's kind watch; nil when no object is
// given.
func loadTriggerObject(file string, fields []string, triggers []kubeciv1.Trigger, stdin io.Reader) (*local.TriggerObject, error) {
	if file == "" {
		if len(fields) > 0 {
			return nil, errors.New("--field needs --trigger-object: the fields are read from that object")
		}
		return nil, nil
	}
	data, err := readInput(file, stdin)
	if err != nil {
		return nil, fmt.Errorf("--trigger-object: %w", err)
	}
	obj, err := parseObject(data)
	if err != nil {
		return nil, fmt.Errorf("--trigger-object %s: %w", file, err)
	}
	t := &local.TriggerObject{Object: obj}
	if len(fields) == 0 {
		fields = watchedFields(triggers, obj)
	}
	for _, f := range fields {
		p, err := trigger.ParseFieldPath(f)
		if err != nil {
			return nil, fmt.Errorf("--field: %w", err)
		}
		t.Fields = append(t.Fields, p)
	}
	return t, nil
}

// parseObject reads one Kubernetes object, which must have an apiVersion, a
// kind and a name.
func parseObject(data []byte) (*unstructured.Unstructured, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("not valid YAML or JSON: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil || m == nil {
		return nil, errors.New("not a Kubernetes object: give one object (a mapping with apiVersion, kind and metadata), as kubectl get -o yaml prints it")
	}
	obj := &unstructured.Unstructured{Object: m}
	if obj.GetAPIVersion() == "" || obj.GetKind() == "" || obj.GetName() == "" {
		return nil, errors.New("the object needs apiVersion, kind and metadata.name, as kubectl get -o yaml prints it")
	}
	return obj, nil
}

// watchedFields are the distinct fieldPaths of the triggers on obj's kind: the
// fields whose values a run on the cluster records.
func watchedFields(triggers []kubeciv1.Trigger, obj *unstructured.Unstructured) []string {
	var out []string
	for _, tr := range triggers {
		if tr.APIVersion != obj.GetAPIVersion() || (tr.Kind != "" && tr.Kind != obj.GetKind()) {
			continue
		}
		for _, p := range tr.FieldPaths {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}
