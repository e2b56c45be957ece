package workflow

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// staleReads remembers, per Workflow, the resourceVersion this controller's
// last status write replaced. A cached Workflow still at that version is older
// than what the API server holds. Only equality of resourceVersions is used,
// as the API allows.
type staleReads struct {
	mu       sync.Mutex
	replaced map[types.NamespacedName]string
}

func newStaleReads() *staleReads {
	return &staleReads{replaced: map[types.NamespacedName]string{}}
}

// wrote records that a status write replaced resourceVersion rv of key.
func (s *staleReads) wrote(key types.NamespacedName, rv string) {
	s.mu.Lock()
	s.replaced[key] = rv
	s.mu.Unlock()
}

// isStale reports whether rv is a version of key that a write replaced; once the
// cache shows another version, key is forgotten.
func (s *staleReads) isStale(key types.NamespacedName, rv string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	replaced, ok := s.replaced[key]
	if ok && replaced != rv {
		delete(s.replaced, key)
	}
	return ok && replaced == rv
}

func (s *staleReads) forget(key types.NamespacedName) {
	s.mu.Lock()
	delete(s.replaced, key)
	s.mu.Unlock()
}
