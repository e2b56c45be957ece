package trigger

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// MaxFieldPathLength bounds a field path's text.
const MaxFieldPathLength = 256

// FieldPath is a parsed trigger field path: the keys (and list indexes) that
// lead from an object's root to one value. Its text form is dotted, with
// brackets for keys that hold dots and for list indexes:
//
//	status.artifact.revision
//	metadata.labels["app.kubernetes.io/version"]
//	status.conditions[0].status
type FieldPath struct {
	text     string
	segments []segment
}

// segment is one step of a path: a map key, or a list index when isIndex.
type segment struct {
	key     string
	index   int
	isIndex bool
}

// String returns the path as it was written.
func (p FieldPath) String() string { return p.text }

// ParseFieldPath parses a field path. The error says what is wrong and where.
func ParseFieldPath(text string) (FieldPath, error) {
	switch {
	case text == "":
		return FieldPath{}, fmt.Errorf("a field path cannot be empty")
	case len(text) > MaxFieldPathLength:
		return FieldPath{}, fmt.Errorf("a field path may be at most %d characters long", MaxFieldPathLength)
	}
	p := FieldPath{text: text}
	rest := text
	for first := true; rest != ""; first = false {
		switch {
		case rest[0] == '[':
			seg, n, err := parseBracket(rest)
			if err != nil {
				return FieldPath{}, fmt.Errorf("at character %d: %w", len(text)-len(rest)+1, err)
			}
			if first && seg.isIndex {
				return FieldPath{}, fmt.Errorf("a field path starts at the object's root, a map: it cannot start with a list index")
			}
			p.segments = append(p.segments, seg)
			rest = rest[n:]
		case rest[0] == '.' && !first:
			rest = rest[1:]
			key, n := plainKey(rest)
			if n == 0 {
				return FieldPath{}, fmt.Errorf("at character %d: a key is missing after '.'", len(text)-len(rest))
			}
			p.segments = append(p.segments, segment{key: key})
			rest = rest[n:]
		case first:
			key, n := plainKey(rest)
			if n == 0 {
				return FieldPath{}, fmt.Errorf("at character 1: a field path starts with a key, for example status.artifact.revision")
			}
			p.segments = append(p.segments, segment{key: key})
			rest = rest[n:]
		default:
			return FieldPath{}, fmt.Errorf("at character %d: expected '.' or '[' after a key, found %q", len(text)-len(rest)+1, rest[0])
		}
	}
	return p, nil
}

// plainKey reads a key up to the next '.' or '['.
func plainKey(s string) (string, int) {
	n := strings.IndexAny(s, ".[")
	if n < 0 {
		n = len(s)
	}
	return s[:n], n
}

// parseBracket reads `[N]` or `["key"]` at the start of s.
func parseBracket(s string) (segment, int, error) {
	end := strings.IndexByte(s, ']')
	if strings.HasPrefix(s, `["`) {
		closing := strings.Index(s[2:], `"]`)
		if closing < 0 {
			return segment{}, 0, fmt.Errorf(`an opening '["' has no closing '"]'`)
		}
		key := s[2 : 2+closing]
		if key == "" {
			return segment{}, 0, fmt.Errorf(`a bracketed key cannot be empty`)
		}
		if strings.ContainsAny(key, `"\`) {
			return segment{}, 0, fmt.Errorf(`a bracketed key cannot hold '"' or '\'`)
		}
		return segment{key: key}, 2 + closing + 2, nil
	}
	if end < 0 {
		return segment{}, 0, fmt.Errorf("an opening '[' has no closing ']'")
	}
	i, err := strconv.Atoi(s[1:end])
	if err != nil || i < 0 || s[1] == '+' {
		return segment{}, 0, fmt.Errorf(`%q is neither a list index nor a quoted key (write [0] or ["a.b"])`, s[:end+1])
	}
	return segment{index: i, isIndex: true}, end + 1, nil
}

// Lookup returns the value at the path in obj (an object as decoded from
// JSON), and whether it is there. A null value counts as absent.
func (p FieldPath) Lookup(obj map[string]any) (any, bool) {
	var cur any = obj
	for _, s := range p.segments {
		switch v := cur.(type) {
		case map[string]any:
			if s.isIndex {
				return nil, false
			}
			next, ok := v[s.key]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			if !s.isIndex || s.index >= len(v) {
				return nil, false
			}
			cur = v[s.index]
		default:
			return nil, false
		}
	}
	return cur, cur != nil
}

// set puts value at the path in obj, creating the maps on the way. A path
// through a list is not rebuilt (it reports false).
func (p FieldPath) set(obj map[string]any, value any) bool {
	cur := obj
	for i, s := range p.segments {
		if s.isIndex {
			return false
		}
		if i == len(p.segments)-1 {
			cur[s.key] = value
			return true
		}
		next, ok := cur[s.key].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[s.key] = next
		}
		cur = next
	}
	return false
}

// root is the path's first key: "status" for status.artifact.revision.
func (p FieldPath) root() string {
	if len(p.segments) == 0 {
		return ""
	}
	return p.segments[0].key
}

// FieldEnvName is the environment variable a step reads a watched field's value
// from: KUBECI_FIELD_ and the path in upper case, each character other than a
// letter or a digit replaced by '_' (status.artifact.revision gives
// KUBECI_FIELD_STATUS_ARTIFACT_REVISION).
func FieldEnvName(path string) string {
	var b strings.Builder
	b.WriteString(kubeciv1.EnvFieldPrefix)
	for _, r := range strings.ToUpper(path) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// FieldValueString renders a field's value for a step: strings as they are,
// anything else (numbers, booleans, maps, lists) as JSON.
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
