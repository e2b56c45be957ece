package trigger

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFieldPath(t *testing.T) {
	obj := map[string]any{
		"metadata": map[string]any{"labels": map[string]any{"app.kubernetes.io/version": "1.2"}},
		"status": map[string]any{
			"artifact":   map[string]any{"revision": "main@sha1:abc", "size": float64(42)},
			"conditions": []any{map[string]any{"type": "Ready", "status": "True"}},
			"empty":      nil,
		},
	}
	cases := []struct {
		path  string
		err   string
		value any
		found bool
	}{
		{path: "status.artifact.revision", value: "main@sha1:abc", found: true},
		{path: "status.artifact.size", value: float64(42), found: true},
		{path: "status.artifact", value: obj["status"].(map[string]any)["artifact"], found: true},
		{path: `metadata.labels["app.kubernetes.io/version"]`, value: "1.2", found: true},
		{path: "status.conditions[0].status", value: "True", found: true},
		{path: "status.conditions[1].status"},
		{path: "status.conditions.status"},
		{path: "status.artifact[0]"},
		{path: "status.missing.revision"},
		{path: "status.empty"},
		{path: `status["artifact"].revision`, value: "main@sha1:abc", found: true},
		{path: "", err: "a field path cannot be empty"},
		{path: ".status", err: "at character 1: a field path starts with a key"},
		{path: "status.", err: "at character 7: a key is missing after '.'"},
		{path: "status..revision", err: "at character 7: a key is missing after '.'"},
		{path: "[0].status", err: "cannot start with a list index"},
		{path: "status[", err: "at character 7: an opening '[' has no closing ']'"},
		{path: "status[x]", err: `at character 7: "[x]" is neither a list index nor a quoted key`},
		{path: "status[-1]", err: `"[-1]" is neither a list index`},
		{path: `status["a`, err: `an opening '["' has no closing '"]'`},
		{path: `status[""]`, err: "a bracketed key cannot be empty"},
		{path: "status[0]x", err: `at character 10: expected '.' or '[' after a key, found 'x'`},
		{path: strings.Repeat("a", MaxFieldPathLength+1), err: "at most 256 characters"},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			p, err := ParseFieldPath(tc.path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseFieldPath(%q) error = %v, want one containing %q", tc.path, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFieldPath(%q): %v", tc.path, err)
			}
			if p.String() != tc.path {
				t.Errorf("String() = %q, want %q", p.String(), tc.path)
			}
			v, found := p.Lookup(obj)
			if found != tc.found || !cmp.Equal(v, tc.value) {
				t.Errorf("Lookup = %v, %v; want %v, %v", v, found, tc.value, tc.found)
			}
		})
	}
}

func TestFieldEnvName(t *testing.T) {
	cases := map[string]string{
		"status.artifact.revision":                  "KUBECI_FIELD_STATUS_ARTIFACT_REVISION",
		`metadata.labels["app.kubernetes.io/name"]`: "KUBECI_FIELD_METADATA_LABELS__APP_KUBERNETES_IO_NAME__",
		"status.conditions[0].lastTransitionTime":   "KUBECI_FIELD_STATUS_CONDITIONS_0__LASTTRANSITIONTIME",
		"spec.ref.branch":                           "KUBECI_FIELD_SPEC_REF_BRANCH",
	}
	for path, want := range cases {
		if got := FieldEnvName(path); got != want {
			t.Errorf("FieldEnvName(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestFieldValueString(t *testing.T) {
	cases := []struct {
		v    any
		want string
	}{
		{"main@sha1:abc", "main@sha1:abc"},
		{float64(3), "3"},
		{true, "true"},
		{map[string]any{"b": "2", "a": "1"}, `{"a":"1","b":"2"}`},
		{[]any{"x", float64(1)}, `["x",1]`},
	}
	for _, tc := range cases {
		if got := FieldValueString(tc.v); got != tc.want {
			t.Errorf("FieldValueString(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// FuzzParseFieldPath: any text either parses to a path that prints as the
// text and looks up without panicking, or is refused with an error.
func FuzzParseFieldPath(f *testing.F) {
	for _, s := range []string{"status.artifact.revision", `a["b.c"][0].d`, "a[", `a["`, "a..b", "[0]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		p, err := ParseFieldPath(text)
		if err != nil {
			return
		}
		if p.String() != text {
			t.Fatalf("String() = %q, want %q", p.String(), text)
		}
		p.Lookup(map[string]any{"a": []any{map[string]any{"b": "c"}}})
		_ = FieldEnvName(text)
	})
}
