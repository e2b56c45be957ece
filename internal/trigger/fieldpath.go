package trigger

import (
	"encoding/json"
	"fmt"
	"strings"
)

// FieldPath is a dotted path to a field of an object, such as
// status.artifact.revision.
//
// This minimal version (dotted paths only) was written for kubeci run's
// --field; issue 13's version, with the same signatures, replaces it.
type FieldPath struct {
	path     string
	segments []string
}

// ParseFieldPath parses a dotted path; empty segments are refused.
func ParseFieldPath(path string) (FieldPath, error) {
	segments := strings.Split(path, ".")
	for _, s := range segments {
		if s == "" {
			return FieldPath{}, fmt.Errorf("field path %q: give dotted field names, such as status.artifact.revision", path)
		}
	}
	return FieldPath{path: path, segments: segments}, nil
}

// String is the path as written.
func (p FieldPath) String() string { return p.path }

// Lookup returns the value at the path in obj, and whether it is there.
func (p FieldPath) Lookup(obj map[string]any) (value any, found bool) {
	var cur any = obj
	for _, s := range p.segments {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[s]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// FieldEnvName is the environment variable holding a watched field's value:
// KUBECI_FIELD_ and the path upper-cased, every character but A-Z and 0-9
// replaced by "_" (status.artifact.revision: KUBECI_FIELD_STATUS_ARTIFACT_REVISION).
func FieldEnvName(path string) string {
	b := []byte(strings.ToUpper(path))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	return "KUBECI_FIELD_" + string(b)
}

// FieldValueString is a field's value as an environment variable holds it:
// a string as it is, anything else as JSON.
func FieldValueString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}
