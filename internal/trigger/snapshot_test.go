package trigger

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

const secretValue = "c3VwZXItc2VjcmV0" // base64 of "super-secret"

func secret() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "creds", "namespace": "ns", "uid": "s1",
			"managedFields": []any{map[string]any{"manager": "kubectl"}},
			"annotations": map[string]any{
				lastApplied: `{"data":{"password":"` + secretValue + `"}}`,
				"team":      "web",
			}},
		"type":       "Opaque",
		"data":       map[string]any{"password": secretValue},
		"stringData": map[string]any{"token": "super-secret"},
	}}
}

func TestRecordNeverHoldsSecretData(t *testing.T) {
	paths := mustPaths(t, "data.password", "stringData.token", `metadata.annotations["`+lastApplied+`"]`, "metadata.annotations.team", "type")
	rec, err := Record(secret(), paths)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := json.Marshal(rec)
	for _, leak := range []string{secretValue, "super-secret", "managedFields", "password"} {
		if strings.Contains(string(all), leak) {
			t.Errorf("the record holds %q: %s", leak, all)
		}
	}
	want := map[string]string{"metadata.annotations.team": "web", "type": "Opaque"}
	if diff := cmp.Diff(want, rec.Fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	if !strings.Contains(rec.Object, `"team":"web"`) || rec.Reduced != "" {
		t.Errorf("everything but the data stays: %s (reduced %q)", rec.Object, rec.Reduced)
	}
	if _, ok := secret().Object["data"]; !ok {
		t.Error("Record must not change the object it is given (the informer's cache)")
	}
}

func TestRecordKeepsOtherKindsWhole(t *testing.T) {
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "c", "managedFields": []any{map[string]any{"manager": "x"}}},
		"data":     map[string]any{"k": "v"}}}
	rec, err := Record(cm, mustPaths(t, "data.k", "data.missing"))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"v1","data":{"k":"v"},"kind":"ConfigMap","metadata":{"name":"c"}}`
	if rec.Object != want || !cmp.Equal(rec.Fields, map[string]string{"data.k": "v"}) {
		t.Errorf("Record = %+v, want object %s and one field", rec, want)
	}
}

// A 1 MiB object does not make run creation fail: the run records its
// identity, labels and watched fields, and says so.
func TestRecordReducesLargeObjects(t *testing.T) {
	big := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": "shop", "namespace": "ns", "uid": "u", "labels": map[string]any{"app": "shop"},
			"annotations": map[string]any{"big": strings.Repeat("x", 1<<20)}},
		"status": map[string]any{"artifact": map[string]any{"revision": "main@sha1:abc", "url": "http://src/shop.tar.gz"}}}}
	rec, err := Record(big, mustPaths(t, "status.artifact.revision"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Object) > MaxObjectBytes || !strings.Contains(rec.Reduced, "more than the 131072 a run records") {
		t.Fatalf("object of %d bytes, reduced %q", len(rec.Object), rec.Reduced)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(rec.Object), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"apiVersion": "source.toolkit.fluxcd.io/v1", "kind": "GitRepository",
		"metadata": map[string]any{"name": "shop", "namespace": "ns", "uid": "u", "labels": map[string]any{"app": "shop"}},
		"status":   map[string]any{"artifact": map[string]any{"revision": "main@sha1:abc"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reduced object (-want +got):\n%s", diff)
	}

	huge := big.DeepCopy()
	huge.SetAnnotations(nil)
	huge.SetLabels(map[string]string{"a": strings.Repeat("y", 1<<18)})
	huge.Object["spec"] = map[string]any{"x": strings.Repeat("z", 1<<20)}
	rec, err = Record(huge, nil)
	if err != nil || len(rec.Object) > MaxObjectBytes || strings.Contains(rec.Object, "yyyy") || !strings.Contains(rec.Reduced, "and so are its labels") {
		t.Errorf("labels over the limit: %d bytes, reduced %q, err %v", len(rec.Object), rec.Reduced, err)
	}
}

func TestRecordTruncatesLongFieldValues(t *testing.T) {
	obj := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"msg": strings.Repeat("é", MaxFieldValueBytes)}}}
	rec, err := Record(obj, mustPaths(t, "status.msg"))
	if err != nil {
		t.Fatal(err)
	}
	if v := rec.Fields["status.msg"]; len(v) > MaxFieldValueBytes || !strings.HasSuffix(v, "é...") {
		t.Errorf("a long value is cut to %d bytes on a character boundary: got %d bytes", MaxFieldValueBytes, len(v))
	}
}

func TestEventOf(t *testing.T) {
	gone := Fire{Event: kubeciv1.EventDeleted, Object: Object{UID: "u", APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Generation: "h:1"}}
	ev, err := EventOf(gone)
	if err != nil {
		t.Fatal(err)
	}
	want := kubeciv1.TriggerEvent{Event: kubeciv1.EventDeleted, APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", UID: "u",
		ResourceGeneration: "h:1", Object: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"namespace":"ns","uid":"u"}}`}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("an object deleted while nobody watched records its identity (-want +got):\n%s", diff)
	}
}

func TestRecordSanitizes(t *testing.T) {
	meta := func(extra map[string]any) map[string]any {
		m := map[string]any{"name": "x", "managedFields": []any{map[string]any{"manager": "kubectl"}}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		in, out map[string]any
	}{
		{"managed fields go",
			map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(nil), "data": map[string]any{"a": "b"}},
			map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x"}, "data": map[string]any{"a": "b"}}},
		{"a Secret keeps no data",
			map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
				"metadata": meta(map[string]any{"annotations": map[string]any{lastApplied: "{...}", "keep": "me"}}),
				"data":     map[string]any{"a": "Yg=="}, "stringData": map[string]any{"c": "d"}},
			map[string]any{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
				"metadata": map[string]any{"name": "x", "annotations": map[string]any{"keep": "me"}}}},
		{"a Secret of another group is any object",
			map[string]any{"apiVersion": "example.com/v1", "kind": "Secret", "metadata": map[string]any{"name": "x"}, "data": "kept"},
			map[string]any{"apiVersion": "example.com/v1", "kind": "Secret", "metadata": map[string]any{"name": "x"}, "data": "kept"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Record(&unstructured.Unstructured{Object: tt.in}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(rec.Object), &got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.out, got); d != "" {
				t.Errorf("Record (-want +got):\n%s", d)
			}
		})
	}
}
