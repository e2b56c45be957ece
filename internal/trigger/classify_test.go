package trigger

import (
	"errors"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// configMap is a ConfigMap in namespace ns with the given labels and data.
func configMap(name string, labels map[string]string, data string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"data": map[string]any{"d": data, "other": "x"},
	}}
	u.SetNamespace("ns")
	u.SetName(name)
	u.SetUID(types.UID("uid-" + name))
	u.SetLabels(labels)
	return u
}

// What an informer event means to a Workflow's triggers: events of objects no
// trigger matches wake nobody, nor do updates that leave an object's version
// (its resource generation, or its watched fields) as it was.
func TestClassify(t *testing.T) {
	target := Target{GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Kind: "ConfigMap", Namespace: "ns"}
	filter := func(tr kubeciv1.Trigger) []Filter { return []Filter{mustFilter(t, target, tr)} }
	web := map[string]string{"app": "web"}
	byLabel := filter(kubeciv1.Trigger{Selector: &metav1.LabelSelector{MatchLabels: web}, OnAddOrUpdate: true})
	byField := filter(kubeciv1.Trigger{Name: "a", FieldPaths: []string{"data.d"}, OnAddOrUpdate: true})
	withLabels := func(u *unstructured.Unstructured, l map[string]string) *unstructured.Unstructured {
		u = u.DeepCopy()
		u.SetLabels(l)
		return u
	}
	failing := func(*unstructured.Unstructured) (string, error) { return "", errors.New("cannot hash") }

	cases := []struct {
		name     string
		filters  []Filter
		old, new *unstructured.Unstructured
		gen      func(*unstructured.Unstructured) (string, error)
		want     EventClass
	}{
		{"an added object that matches", byLabel, nil, configMap("a", web, "1"), nil, EventAccepted},
		{"an added object that does not match", byLabel, nil, configMap("a", nil, "1"), nil, EventFiltered},
		{"a deleted object that matched", byLabel, configMap("a", web, "1"), nil, nil, EventAccepted},
		{"a deleted object that did not match", byLabel, configMap("a", nil, "1"), nil, nil, EventFiltered},
		{"an update that matches neither before nor after", byLabel, configMap("a", nil, "1"), configMap("a", nil, "2"), nil, EventFiltered},
		{"an update that starts matching", byLabel, configMap("a", nil, "1"), configMap("a", web, "1"), nil, EventAccepted},
		{"an update that stops matching", byLabel, configMap("a", web, "1"), configMap("a", nil, "1"), nil, EventAccepted},
		{"an update of the content", byLabel, configMap("a", web, "1"), configMap("a", web, "2"), nil, EventAccepted},
		{"an update of the metadata only", byLabel, configMap("a", web, "1"), withLabels(configMap("a", web, "1"), map[string]string{"app": "web", "x": "y"}), nil, EventDuplicate},
		{"an update of a watched field", byField, configMap("a", nil, "1"), configMap("a", nil, "2"), nil, EventAccepted},
		{"an update of an unwatched field", byField, configMap("a", nil, "1"),
			func() *unstructured.Unstructured {
				u := configMap("a", nil, "1")
				u.Object["data"].(map[string]any)["other"] = "changed"
				return u
			}(), nil, EventDuplicate},
		{"an update whose generation cannot be computed is accepted", byLabel, configMap("a", web, "1"), withLabels(configMap("a", web, "1"), map[string]string{"app": "web", "x": "y"}), failing, EventAccepted},
		{"no filters", nil, nil, configMap("a", web, "1"), nil, EventFiltered},
		{"no object", byLabel, nil, nil, nil, EventFiltered},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gen := tc.gen
			if gen == nil {
				gen = ResourceGeneration
			}
			if got := Classify(tc.filters, tc.old, tc.new, gen); got != tc.want {
				t.Errorf("Classify = %s, want %s", got, tc.want)
			}
		})
	}
}
