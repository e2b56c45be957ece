package workflow

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// staleReads remembers, per Workflow, the resourceVersion this controller's
// last status write replaced, and the Workflow the API server returned for the
// write. A cached Workflow still at the replaced version is older than that
// one. Only equality of resourceVersions is used, as the API allows. The
// returned Workflow is kept only until the cache holds another version (cached,
// called by the cache's informer, or newer): with 1,000 Workflows, holding
// every write's result until the next reconcile was several MB.
type staleReads struct {
	mu      sync.Mutex
	written map[types.NamespacedName]write
	// cachedVersion, when set, returns the resourceVersion the cache holds
	// of a Workflow: a write the cache already caught up with is not kept.
	cachedVersion func(types.NamespacedName) (string, bool)
}

type write struct {
	replaced string
	result   *kubeciv1.Workflow
}

func newStaleReads() *staleReads {
	return &staleReads{written: map[types.NamespacedName]write{}}
}

// wrote records that a status write replaced resourceVersion rv of key and
// returned result.
func (s *staleReads) wrote(key types.NamespacedName, rv string, result *kubeciv1.Workflow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Held across the check: cached, told after the cache changed, waits.
	if s.cachedVersion != nil {
		if cached, ok := s.cachedVersion(key); ok && cached != rv {
			delete(s.written, key)
			return
		}
	}
	s.written[key] = write{replaced: rv, result: result.DeepCopy()}
}

// newer returns the Workflow a write returned when cached, at resourceVersion
// rv, is the version that write replaced; nil when the cache is current. Once
// the cache shows another version, key is forgotten.
func (s *staleReads) newer(key types.NamespacedName, rv string) *kubeciv1.Workflow {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.written[key]
	switch {
	case !ok:
		return nil
	case w.replaced != rv:
		delete(s.written, key)
		return nil
	}
	return w.result.DeepCopy()
}

// cached is told that the cache now holds resourceVersion rv of key: a write
// that replaced another version is no longer needed.
func (s *staleReads) cached(key types.NamespacedName, rv string) {
	s.mu.Lock()
	if w, ok := s.written[key]; ok && w.replaced != rv {
		delete(s.written, key)
	}
	s.mu.Unlock()
}

func (s *staleReads) forget(key types.NamespacedName) {
	s.mu.Lock()
	delete(s.written, key)
	s.mu.Unlock()
}
