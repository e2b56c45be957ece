package trigger

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// labelsOf returns obj's labels for a selector to read. An unstructured
// object's are read in place: GetLabels copies them, and every informer event
// is matched against the filters of every Workflow watching the kind (10,000
// ConfigMaps listed for 1,000 Workflows made 10 million copies, 240 MB of
// garbage, at the operator's start).
func labelsOf(obj interface{ GetLabels() map[string]string }) labels.Labels {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		meta, _ := u.Object["metadata"].(map[string]any)
		l, _ := meta["labels"].(map[string]any)
		return unstructuredLabels(l)
	}
	return labels.Set(obj.GetLabels())
}

// unstructuredLabels are the labels of an unstructured object, as decoded:
// values that are not strings (which the API server never serves) read as
// absent.
type unstructuredLabels map[string]any

func (l unstructuredLabels) Has(name string) bool {
	_, ok := l.Lookup(name)
	return ok
}

func (l unstructuredLabels) Get(name string) string {
	v, _ := l.Lookup(name)
	return v
}

func (l unstructuredLabels) Lookup(name string) (string, bool) {
	v, ok := l[name].(string)
	return v, ok
}
