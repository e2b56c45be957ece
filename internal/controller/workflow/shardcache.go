package workflow

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// shardCache keeps, per Workflow, the shards of its record this controller
// last read or wrote, as the API server returned them, so that a decision per
// change reads no shard from the API server once it has written it: the
// operator is the record's only writer. Every shard write carries the
// resourceVersion it was based on, so a shard someone else changed meanwhile
// makes the write fail; its copy is then dropped and the Workflow decides
// again from a fresh read. Copies are kept for one shard count (that of the
// last shard put) and one Workflow UID.
type shardCache struct {
	mu sync.Mutex
	m  map[types.NamespacedName]*cachedShards
}

type cachedShards struct {
	uid    types.UID
	count  int
	shards map[int]*kubeciv1.TriggerRecord
}

func newShardCache() *shardCache {
	return &shardCache{m: map[types.NamespacedName]*cachedShards{}}
}

// get returns the copy of shard i, of count shards, of the Workflow key of
// UID uid, or nil. It is shared: do not modify it.
func (c *shardCache) get(key types.NamespacedName, uid types.UID, count, i int) *kubeciv1.TriggerRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.m[key]
	if s == nil || s.uid != uid || s.count != count {
		return nil
	}
	return s.shards[i]
}

// put keeps tr as shard i of count shards; copies of another count or
// Workflow UID are dropped.
func (c *shardCache) put(key types.NamespacedName, uid types.UID, count, i int, tr *kubeciv1.TriggerRecord) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.m[key]
	if s == nil || s.uid != uid || s.count != count {
		s = &cachedShards{uid: uid, count: count, shards: map[int]*kubeciv1.TriggerRecord{}}
		c.m[key] = s
	}
	s.shards[i] = tr
}

// drop forgets the copy of shard i of key.
func (c *shardCache) drop(key types.NamespacedName, i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.m[key]; s != nil {
		delete(s.shards, i)
	}
}

// forget drops every copy of key.
func (c *shardCache) forget(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}
