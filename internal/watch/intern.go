package watch

import (
	"sort"
	"strings"
	"sync"
)

const (
	// maxInternedLen is the longest string interned: field names, label
	// and annotation keys, short label values.
	maxInternedLen = 64
	// maxInterned bounds the table; past it, strings not yet in it are kept
	// as they are.
	maxInterned = 100_000
	// maxSharedLabelSets bounds the label sets shared, likewise.
	maxSharedLabelSets = 100_000
)

// interner makes the cached objects share one copy of each of the strings
// that repeat from object to object: every map key ("metadata", "name",
// "labels", a ConfigMap's data keys, label keys), short label values, and
// apiVersion, kind and namespace. Decoding gives each object its own copies:
// for 10,000 small ConfigMaps, some 2.5 MB of a 20 MB cache. Objects with the
// same labels also share one map of them (many objects carry the same few
// labels, and even a map of one label takes some 300 bytes). The cache's
// objects are never modified, so sharing what they hold is safe.
type interner struct {
	mu     sync.Mutex
	m      map[string]string
	labels map[string]map[string]any
}

func newInterner() *interner {
	return &interner{m: map[string]string{}, labels: map[string]map[string]any{}}
}

// object interns obj's strings in place. obj must not be shared yet.
func (in *interner) object(obj map[string]any) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.mapLocked(obj)
	for _, k := range []string{"apiVersion", "kind"} {
		in.valueLocked(obj, k)
	}
	if meta, ok := obj["metadata"].(map[string]any); ok {
		in.valueLocked(meta, "namespace")
		if labels, ok := meta["labels"].(map[string]any); ok {
			for k := range labels {
				in.valueLocked(labels, k)
			}
			meta["labels"] = in.labelsLocked(labels)
		}
	}
}

// labelsLocked returns the shared map equal to labels (itself when it is the
// first such set, or when the table is full or a value is not a string).
func (in *interner) labelsLocked(labels map[string]any) map[string]any {
	keys := make([]string, 0, len(labels))
	for k, v := range labels {
		if _, ok := v.(string); !ok {
			return labels
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0) // in neither label names nor values
		b.WriteString(labels[k].(string))
		b.WriteByte(0)
	}
	id := b.String()
	if shared, ok := in.labels[id]; ok {
		return shared
	}
	if len(in.labels) < maxSharedLabelSets {
		in.labels[id] = labels
	}
	return labels
}

// mapLocked interns the keys of m and of the maps it holds, at any depth.
// Assigning to an existing key replaces the key the map stores.
func (in *interner) mapLocked(m map[string]any) {
	for k, v := range m {
		if s := in.stringLocked(k); s != "" {
			m[s] = v
		}
		in.nestedLocked(v)
	}
}

func (in *interner) nestedLocked(v any) {
	switch x := v.(type) {
	case map[string]any:
		in.mapLocked(x)
	case []any:
		for _, e := range x {
			in.nestedLocked(e)
		}
	}
}

// valueLocked interns m[k] when it is a string.
func (in *interner) valueLocked(m map[string]any, k string) {
	if v, ok := m[k].(string); ok {
		if s := in.stringLocked(v); s != "" {
			m[k] = s
		}
	}
}

// stringLocked returns the shared copy of s, or "" when s is not interned
// (too long, or the table is full and s is not in it).
func (in *interner) stringLocked(s string) string {
	if len(s) == 0 || len(s) > maxInternedLen {
		return ""
	}
	if c, ok := in.m[s]; ok {
		return c
	}
	if len(in.m) >= maxInterned {
		return ""
	}
	in.m[s] = s
	return s
}
