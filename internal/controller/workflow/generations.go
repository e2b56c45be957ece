package workflow

import (
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kubeci/kubeci/internal/trigger"
)

// maxCachedGenerations bounds the cache; past it the cache starts over.
const maxCachedGenerations = 200_000

// generations caches each object's resource generation by UID and
// resourceVersion, so content hashes are computed once per object version, not
// once per event and Workflow.
type generations struct {
	mu sync.Mutex
	m  map[types.UID]cachedGeneration
}

type cachedGeneration struct {
	resourceVersion string
	generation      string
}

func newGenerations() *generations {
	return &generations{m: map[types.UID]cachedGeneration{}}
}

// of returns obj's resource generation.
func (g *generations) of(obj *unstructured.Unstructured) (string, error) {
	uid, rv := obj.GetUID(), obj.GetResourceVersion()
	g.mu.Lock()
	c, ok := g.m[uid]
	g.mu.Unlock()
	if ok && c.resourceVersion == rv {
		return c.generation, nil
	}
	gen, err := trigger.ResourceGeneration(obj)
	if err != nil {
		return "", err
	}
	g.mu.Lock()
	if len(g.m) >= maxCachedGenerations {
		g.m = map[types.UID]cachedGeneration{}
	}
	g.m[uid] = cachedGeneration{resourceVersion: rv, generation: gen}
	g.mu.Unlock()
	return gen, nil
}

// forget drops a deleted object.
func (g *generations) forget(uid types.UID) {
	g.mu.Lock()
	delete(g.m, uid)
	g.mu.Unlock()
}
