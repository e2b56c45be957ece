package trigger

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestSnapshot(t *testing.T) {
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
			data, err := Snapshot(&unstructured.Unstructured{Object: tt.in})
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(data, &got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.out, got); d != "" {
				t.Errorf("Snapshot (-want +got):\n%s", d)
			}
		})
	}
}

func TestFields(t *testing.T) {
	obj := map[string]any{"status": map[string]any{"artifact": map[string]any{"revision": "main@sha1:abc", "size": int64(3)}}}
	tests := []struct {
		path, env, value string
		found            bool
	}{
		{"status.artifact.revision", "KUBECI_FIELD_STATUS_ARTIFACT_REVISION", "main@sha1:abc", true},
		{"status.artifact", "KUBECI_FIELD_STATUS_ARTIFACT", `{"revision":"main@sha1:abc","size":3}`, true},
		{"status.artifact.size", "KUBECI_FIELD_STATUS_ARTIFACT_SIZE", "3", true},
		{"status.missing", "KUBECI_FIELD_STATUS_MISSING", "", false},
		{"status.artifact.revision.deeper", "KUBECI_FIELD_STATUS_ARTIFACT_REVISION_DEEPER", "", false},
	}
	for _, tt := range tests {
		p, err := ParseFieldPath(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		v, found := p.Lookup(obj)
		got := ""
		if found {
			got = FieldValueString(v)
		}
		if d := cmp.Diff([]any{tt.env, tt.value, tt.found}, []any{FieldEnvName(tt.path), got, found}); d != "" {
			t.Errorf("%s (-want +got):\n%s", tt.path, d)
		}
	}
	if _, err := ParseFieldPath("status..x"); err == nil {
		t.Error("ParseFieldPath(status..x) gave no error")
	}
}
