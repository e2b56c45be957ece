package watch

import (
	"sync"
)

const (
	// maxInternedLen is the longest string interned: field names, label
	// and annotation keys, short label values.
	maxInternedLen = 64
	// maxInterned bounds the table; past it, strings not yet in it are kept
	// as they are.
	maxInterned = 100_000
)

// interner makes the cached objects share one copy of each of the strings
// that repeat from object to object: every map key ("metadata", "name",
// "labels", a ConfigMap's data keys, label keys), short label values, and
// apiVersion, kind and namespace. Decoding gives each object its own copies:
// for 10,000 small ConfigMaps, some 2.5 MB of a 20 MB cache.
type interner struct {
	mu sync.Mutex
	m  map[string]string
}

func newInterner() *interner { return &interner{m: map[string]string{}} }

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
		}
	}
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
