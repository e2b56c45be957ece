package local

import (
	"fmt"
	"strings"
)

// ImageMap replaces step images by others (--image FROM=TO): for a mirror, or
// a local registry's copy of an image.
type ImageMap map[string]string

// ParseImageMap reads FROM=TO pairs; a FROM given twice is refused.
func ParseImageMap(pairs []string) (ImageMap, error) {
	m := ImageMap{}
	for _, p := range pairs {
		from, to, ok := strings.Cut(p, "=")
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		if !ok || from == "" || to == "" {
			return nil, fmt.Errorf("--image %q: give FROM=TO, for example alpine=registry.example.com/mirror/alpine:3.20", p)
		}
		if prev, dup := m[from]; dup {
			return nil, fmt.Errorf("--image %q: %s is already mapped to %s", p, from, prev)
		}
		m[from] = to
	}
	return m, nil
}

// Map is the image a step naming ref runs.
func (m ImageMap) Map(ref string) string {
	if to, ok := m[ref]; ok {
		return to
	}
	return ref
}
