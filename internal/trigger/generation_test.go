package trigger

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func toUnstructured(t *testing.T, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func TestResourceGeneration(t *testing.T) {
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns", UID: "u", ResourceVersion: "1", Labels: map[string]string{"a": "1"}},
		Data:       map[string]string{"k": "v"},
	}
	gen := func(o runtime.Object) string {
		g, err := ResourceGeneration(toUnstructured(t, o))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	base := gen(cm)
	if len(base) != len("h:")+16 || base[:2] != "h:" {
		t.Fatalf("a ConfigMap's generation must be a content hash, got %q", base)
	}

	meta := cm.DeepCopy()
	meta.ResourceVersion = "2"
	meta.Labels = map[string]string{"b": "2"}
	meta.Annotations = map[string]string{"note": "x"}
	meta.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	if got := gen(meta); got != base {
		t.Errorf("metadata-only changes must keep the generation: %s != %s", got, base)
	}

	data := cm.DeepCopy()
	data.Data["k"] = "w"
	if got := gen(data); got == base {
		t.Error("a data change must change the generation")
	}

	dep := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "d", "generation": int64(4)},
		"status":   map[string]any{"replicas": int64(1)},
	}}
	g1, _ := ResourceGeneration(dep)
	unstructured.SetNestedField(dep.Object, int64(3), "status", "replicas")
	g2, _ := ResourceGeneration(dep)
	if g1 != "4" || g2 != "4" {
		t.Errorf("objects with metadata.generation use it, status changes do not count: got %q then %q", g1, g2)
	}
}
