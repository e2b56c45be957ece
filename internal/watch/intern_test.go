package watch

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"k8s.io/apimachinery/pkg/api/equality"
)

// decoded is a fresh object as decoding gives it: its own copy of each string.
func decoded(name string) map[string]any {
	c := strings.Clone
	return map[string]any{
		c("apiVersion"): c("v1"), c("kind"): c("ConfigMap"),
		c("metadata"): map[string]any{c("name"): c(name), c("namespace"): c("watched"),
			c("labels"): map[string]any{c("app"): c("web")}},
		c("data"):       map[string]any{c("key"): c("value-" + name)},
		c("list"):       []any{map[string]any{c("item"): c("x")}},
		c(long("k")):    c("v"),
		c("annotation"): c(long("v")),
	}
}

func long(s string) string { return strings.Repeat(s, maxInternedLen+1) }

func same(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) }

// keyOf returns m's stored key equal to k.
func keyOf(m map[string]any, k string) string {
	for s := range m {
		if s == k {
			return s
		}
	}
	return ""
}

func TestInternerSharesRepeatedStrings(t *testing.T) {
	in := newInterner()
	a, b := decoded("a"), decoded("b")
	in.object(a)
	in.object(b)
	if !equality.Semantic.DeepEqual(a, decoded("a")) || !equality.Semantic.DeepEqual(b, decoded("b")) {
		t.Fatal("interning must not change the objects' content")
	}
	metaA, metaB := a["metadata"].(map[string]any), b["metadata"].(map[string]any)
	labelsA, labelsB := metaA["labels"].(map[string]any), metaB["labels"].(map[string]any)
	itemA, itemB := a["list"].([]any)[0].(map[string]any), b["list"].([]any)[0].(map[string]any)
	for _, tc := range []struct {
		what string
		x, y string
	}{
		{"a top-level key", keyOf(a, "metadata"), keyOf(b, "metadata")},
		{"a metadata key", keyOf(metaA, "namespace"), keyOf(metaB, "namespace")},
		{"a label key", keyOf(labelsA, "app"), keyOf(labelsB, "app")},
		{"a label value", labelsA["app"].(string), labelsB["app"].(string)},
		{"a key in a list", keyOf(itemA, "item"), keyOf(itemB, "item")},
		{"apiVersion", a["apiVersion"].(string), b["apiVersion"].(string)},
		{"kind", a["kind"].(string), b["kind"].(string)},
		{"namespace", metaA["namespace"].(string), metaB["namespace"].(string)},
	} {
		if !same(tc.x, tc.y) {
			t.Errorf("%s: not shared", tc.what)
		}
	}
	for _, tc := range []struct {
		what string
		x, y string
	}{
		{"a key too long", keyOf(a, long("k")), keyOf(b, long("k"))},
		{"a value other than apiVersion, kind, namespace or a label's", a["annotation"].(string), b["annotation"].(string)},
	} {
		if same(tc.x, tc.y) {
			t.Errorf("%s: shared, want left alone", tc.what)
		}
	}
}

// A full table interns only what it holds.
func TestInternerIsBounded(t *testing.T) {
	in := newInterner()
	for i := range maxInterned {
		in.m[strconv.Itoa(i)] = ""
	}
	in.object(map[string]any{"new-key": "v"})
	if _, ok := in.m["new-key"]; ok || len(in.m) != maxInterned {
		t.Errorf("the full table grew to %d entries", len(in.m))
	}
}

func labelsOf(obj map[string]any) map[string]any {
	return obj["metadata"].(map[string]any)["labels"].(map[string]any)
}

func sameMap(a, b map[string]any) bool {
	return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
}

// Objects with equal labels share one map of them; others keep their own.
func TestInternerSharesLabelSets(t *testing.T) {
	in := newInterner()
	withLabels := func(labels map[string]any) map[string]any {
		obj := map[string]any{"metadata": map[string]any{"labels": labels}}
		in.object(obj)
		return obj
	}
	a := withLabels(map[string]any{"app": "web", "tier": "front"})
	b := withLabels(map[string]any{"tier": "front", "app": "web"})
	c := withLabels(map[string]any{"app": "web"})
	d := withLabels(map[string]any{"app": "web", "tier": ""})
	e := withLabels(map[string]any{"app": "web", "tier": ""})
	odd := withLabels(map[string]any{"app": int64(1)})
	odd2 := withLabels(map[string]any{"app": int64(1)})
	if !sameMap(labelsOf(a), labelsOf(b)) || !sameMap(labelsOf(d), labelsOf(e)) {
		t.Error("equal labels must share one map")
	}
	if sameMap(labelsOf(a), labelsOf(c)) || sameMap(labelsOf(a), labelsOf(d)) {
		t.Error("different labels must not share a map")
	}
	if sameMap(labelsOf(odd), labelsOf(odd2)) {
		t.Error("labels that are not all strings are left alone")
	}
	if !equality.Semantic.DeepEqual(labelsOf(b), map[string]any{"tier": "front", "app": "web"}) {
		t.Errorf("labels changed: %v", labelsOf(b))
	}
}
