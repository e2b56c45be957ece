package trigger

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
)

// fieldsPrefix marks a version made of watched field values.
const fieldsPrefix = "f:"

// absent stands for a watched field the object does not have.
const absent = "-"

// Version is what a Workflow records of an object to recognise its next real
// change. When none of the triggers the object matches has fieldPaths it is
// the object's ResourceGeneration. Otherwise it is "f:" followed by, for each
// watched path (sorted), 16 hex digits of a SHA-256 of the value's JSON or "-"
// when the object lacks it, separated by ","; when some matching trigger
// watches the whole object, ";" and the ResourceGeneration follow. Like the
// content hash, it reveals no value.
func Version(obj map[string]any, paths []FieldPath, whole bool, resourceGeneration string) string {
	if len(paths) == 0 {
		return resourceGeneration
	}
	parts := make([]string, len(paths))
	for i, p := range paths {
		parts[i] = absent
		if v, ok := p.Lookup(obj); ok {
			data, _ := json.Marshal(v) // decoded JSON: cannot fail
			sum := sha256.Sum256(data)
			parts[i] = hex.EncodeToString(sum[:8])
		}
	}
	s := fieldsPrefix + strings.Join(parts, ",")
	if whole {
		s += ";" + resourceGeneration
	}
	return s
}

// WatchedPaths returns the sorted, distinct field paths of filters and
// whether one of them watches the whole object (has no fieldPaths).
func WatchedPaths(filters []*Filter) (paths []FieldPath, whole bool) {
	for _, f := range filters {
		if len(f.FieldPaths) == 0 {
			whole = true
		}
		paths = append(paths, f.FieldPaths...)
	}
	slices.SortFunc(paths, func(a, b FieldPath) int { return strings.Compare(a.text, b.text) })
	paths = slices.CompactFunc(paths, func(a, b FieldPath) bool { return a.text == b.text })
	return paths, whole
}

// fieldVersion is a Version of the "f:" form, taken apart.
type fieldVersion struct {
	fields []string
	whole  string // the ResourceGeneration, when the whole object is watched
}

func parseVersion(v string) (fieldVersion, bool) {
	rest, ok := strings.CutPrefix(v, fieldsPrefix)
	if !ok {
		return fieldVersion{}, false
	}
	fields, whole, _ := strings.Cut(rest, ";")
	return fieldVersion{fields: strings.Split(fields, ","), whole: whole}, true
}

func (f fieldVersion) String() string {
	s := fieldsPrefix + strings.Join(f.fields, ",")
	if f.whole != "" {
		s += ";" + f.whole
	}
	return s
}

// Compare decides whether an object recorded at version prev and now at cur
// changed in a way that starts a run, and returns the version to record:
//
//   - plain resource generations: changed when they differ;
//   - field versions: changed when a watched field has a value it did not have
//     (absent to present, or another value), or when the whole object is
//     watched and its resource generation changed. A field that disappears
//     does not start a run, and its last value stays recorded, so that the
//     same value coming back is not a change either;
//   - versions of different forms (the triggers' fieldPaths changed): not a
//     change; cur is recorded as the new starting point.
func Compare(prev, cur string) (changed bool, record string) {
	if prev == cur {
		return false, cur
	}
	p, pok := parseVersion(prev)
	c, cok := parseVersion(cur)
	switch {
	case !pok && !cok:
		return true, cur
	case !pok || !cok || len(p.fields) != len(c.fields) || (p.whole == "") != (c.whole == ""):
		return false, cur
	}
	merged := fieldVersion{fields: make([]string, len(c.fields)), whole: c.whole}
	changed = p.whole != c.whole
	for i, v := range c.fields {
		merged.fields[i] = v
		switch {
		case v == absent:
			merged.fields[i] = p.fields[i]
		case v != p.fields[i]:
			changed = true
		}
	}
	return changed, merged.String()
}

// Fresh reports whether an object seen for the first time at version cur
// starts a run: always for a whole-object version; for a field version only
// when it has one of the watched fields (absent to present).
func Fresh(cur string) bool {
	v, ok := parseVersion(cur)
	if !ok || v.whole != "" {
		return true
	}
	return slices.ContainsFunc(v.fields, func(f string) bool { return f != absent })
}
