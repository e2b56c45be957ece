// Package watch shares client-go dynamic informers between Workflows: one
// informer per resource and namespace however many Workflows watch it,
// reference-counted, started when the first Workflow needs it and stopped when
// the last one stops needing it.
package watch

import (
	"context"
	"errors"
	"sort"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Key names one shared informer: a resource in one namespace ("" for a
// cluster-scoped resource).
type Key struct {
	GVR       schema.GroupVersionResource
	Namespace string
}

// String reads like "deployments.apps/v1 in namespace web".
func (k Key) String() string {
	s := k.GVR.GroupResource().String() + "/" + k.GVR.Version
	if k.Namespace == "" {
		return s + " cluster-wide"
	}
	return s + " in namespace " + k.Namespace
}

// EventType is the kind of change an informer saw.
type EventType int

const (
	// Added: an object appeared (also on the initial list and relists).
	Added EventType = iota
	// Updated: an object changed (any change, including status and resyncs).
	Updated
	// Deleted: an object was deleted; Old holds its last known state, also
	// when the informer only learnt of it from a tombstone.
	Deleted
)

// Event is one informer notification. Old is nil for Added, New is nil for
// Deleted.
type Event struct {
	Type     EventType
	Old, New *unstructured.Unstructured
}

// Handler receives the notifications of every shared informer. Its methods
// run on the informers' goroutines and must not block.
type Handler interface {
	// OnEvent is called for each change of an object of key.
	OnEvent(key Key, ev Event)
	// OnSynced is called once key's informer has listed every object.
	OnSynced(key Key)
	// OnWatchError is called when key's informer fails to list or watch.
	OnWatchError(key Key, err error)
}

const labelIndex = "label"

// Registry owns the shared informers.
type Registry struct {
	client  dynamic.Interface
	rest    rest.Interface
	handler Handler
	intern  *interner

	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	entries map[Key]*entry
	// owners lists the keys each owner uses (a slice: most use one, and a
	// map per owner cost 600 bytes).
	owners map[types.NamespacedName][]Key
}

type entry struct {
	informer cache.SharedIndexInformer
	stop     context.CancelFunc
	owners   map[types.NamespacedName]bool
	// synced reports whether the handler has been told of the initial list.
	synced func() bool

	mu      sync.Mutex
	lastErr error

	// uids maps the UID of each object the handler was told of to its key
	// in the store. A client-go index would hold a set per UID: for 10,000
	// objects, some 2.5 MB more.
	uidsMu sync.Mutex
	uids   map[types.UID]string
}

// NewRegistry returns a Registry whose informers list and watch with cfg and
// report to handler. Run it as a manager Runnable (Start) so that its informers
// stop with the manager.
func NewRegistry(cfg *rest.Config, handler Handler) (*Registry, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	rc, err := rest.UnversionedRESTClientForConfigAndClient(dynamic.ConfigFor(cfg), httpClient)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Registry{client: dynamic.New(rc), rest: rc, handler: handler, intern: newInterner(), ctx: ctx, cancel: cancel,
		entries: map[Key]*entry{}, owners: map[types.NamespacedName][]Key{}}, nil
}

// Start blocks until ctx ends, then stops every informer.
func (r *Registry) Start(ctx context.Context) error {
	<-ctx.Done()
	r.cancel()
	return nil
}

// Set makes owner use exactly the informers of keys: it starts those nobody
// used yet and releases the ones owner no longer needs.
func (r *Registry) Set(owner types.NamespacedName, keys []Key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	want := make(map[Key]bool, len(keys))
	for _, k := range keys {
		want[k] = true
		e, ok := r.entries[k]
		if !ok {
			e = r.start(k)
			r.entries[k] = e
		}
		e.owners[owner] = true
	}
	for _, k := range r.owners[owner] {
		if !want[k] {
			r.release(owner, k)
		}
	}
	if len(want) == 0 {
		delete(r.owners, owner)
		return
	}
	used := make([]Key, 0, len(want))
	for k := range want {
		used = append(used, k)
	}
	r.owners[owner] = used
}

// Remove releases every informer owner uses.
func (r *Registry) Remove(owner types.NamespacedName) {
	r.Set(owner, nil)
}

// release drops owner from key's informer and stops it when nobody is left.
// r.mu must be held.
func (r *Registry) release(owner types.NamespacedName, k Key) {
	e, ok := r.entries[k]
	if !ok {
		return
	}
	delete(e.owners, owner)
	if len(e.owners) == 0 {
		e.stop()
		delete(r.entries, k)
	}
}

// start creates and runs the informer of k. r.mu must be held.
func (r *Registry) start(k Key) *entry {
	ctx, stop := context.WithCancel(r.ctx)
	inf := cache.NewSharedIndexInformerWithOptions(r.listWatch(k), &unstructured.Unstructured{},
		cache.SharedIndexInformerOptions{
			Indexers:          cache.Indexers{labelIndex: indexByLabel},
			ObjectDescription: k.GVR.String(),
		})
	e := &entry{informer: inf, stop: stop, owners: map[types.NamespacedName]bool{}, uids: map[types.UID]string{}}
	e.synced = inf.HasSynced

	// The cache needs no managed fields: dropping them saves much memory,
	// and so does sharing the strings that repeat from object to object.
	_ = inf.SetTransform(func(obj any) (any, error) {
		if m, ok := obj.(metav1.Object); ok {
			m.SetManagedFields(nil)
		}
		if u, ok := obj.(*unstructured.Unstructured); ok {
			r.intern.object(u.Object)
		}
		return obj, nil
	})
	_ = inf.SetWatchErrorHandlerWithContext(func(ctx context.Context, rf *cache.Reflector, err error) {
		e.setErr(err)
		r.handler.OnWatchError(k, err)
		cache.DefaultWatchErrorHandler(ctx, rf, err)
	})
	// The handler's registration has synced once the handler has been told
	// of every object of the initial list, not only once the cache holds
	// them: a Workflow's first decision then comes after those events, which
	// it covers, so that later decisions need not look at them again.
	reg, _ := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if u, ok := obj.(*unstructured.Unstructured); ok {
				e.track(nil, u)
				r.handler.OnEvent(k, Event{Type: Added, New: u})
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*unstructured.Unstructured)
			n, ok2 := newObj.(*unstructured.Unstructured)
			if ok1 && ok2 {
				e.track(o, n)
				r.handler.OnEvent(k, Event{Type: Updated, Old: o, New: n})
			}
		},
		DeleteFunc: func(obj any) {
			if u, ok := deletedObject(obj); ok {
				e.track(u, nil)
				r.handler.OnEvent(k, Event{Type: Deleted, Old: u})
			}
		},
	})
	if reg != nil {
		e.synced = reg.HasSynced
	}
	go inf.RunWithContext(ctx)
	go func() {
		if cache.WaitForCacheSync(ctx.Done(), e.synced) {
			e.setErr(nil)
			r.handler.OnSynced(k)
		}
	}()
	return e
}

// deletedObject is the last known state of a deleted object, also when the
// informer only learnt of the deletion on a relist and hands over a tombstone.
func deletedObject(obj any) (*unstructured.Unstructured, bool) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	u, ok := obj.(*unstructured.Unstructured)
	return u, ok
}

// track keeps uids current as an object goes from old to new (nil when it
// did not exist or no longer does). It runs before the handler is told, so
// that what the handler is told of is found by UID.
func (e *entry) track(old, new *unstructured.Unstructured) {
	e.uidsMu.Lock()
	defer e.uidsMu.Unlock()
	if old != nil && (new == nil || old.GetUID() != new.GetUID()) {
		delete(e.uids, old.GetUID())
	}
	if new != nil {
		key, err := cache.MetaNamespaceKeyFunc(new)
		if err == nil {
			e.uids[new.GetUID()] = key
		}
	}
}

// byUID returns the stored object with uid, if the handler was told of it
// and it is still stored.
func (e *entry) byUID(uid types.UID) (*unstructured.Unstructured, bool) {
	e.uidsMu.Lock()
	key, ok := e.uids[uid]
	e.uidsMu.Unlock()
	if !ok {
		return nil, false
	}
	it, ok, err := e.informer.GetStore().GetByKey(key)
	if err != nil || !ok {
		return nil, false
	}
	u, ok := it.(*unstructured.Unstructured)
	if !ok || u.GetUID() != uid { // the name now holds a newer object
		return nil, false
	}
	return u, true
}

func (e *entry) setErr(err error) {
	e.mu.Lock()
	e.lastErr = err
	e.mu.Unlock()
}

// ErrNotWatched is returned for a key no owner uses.
var ErrNotWatched = errors.New("not watched")

// State reports whether key's informer has listed every object, and the last
// error it met while it has not.
func (r *Registry) State(k Key) (synced bool, err error) {
	r.mu.Lock()
	e, ok := r.entries[k]
	r.mu.Unlock()
	if !ok {
		return false, ErrNotWatched
	}
	if e.synced() {
		return true, nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return false, e.lastErr
}

// List returns the cached objects of key. They are shared: do not modify them.
func (r *Registry) List(k Key) []*unstructured.Unstructured {
	e := r.entry(k)
	if e == nil {
		return nil
	}
	items := e.informer.GetStore().List()
	out := make([]*unstructured.Unstructured, 0, len(items))
	for _, it := range items {
		if u, ok := it.(*unstructured.Unstructured); ok {
			out = append(out, u)
		}
	}
	return out
}

// Get returns the cached object of key named namespace/name.
func (r *Registry) Get(k Key, namespace, name string) (*unstructured.Unstructured, bool) {
	e := r.entry(k)
	if e == nil {
		return nil, false
	}
	storeKey := name
	if namespace != "" {
		storeKey = namespace + "/" + name
	}
	it, ok, err := e.informer.GetStore().GetByKey(storeKey)
	if err != nil || !ok {
		return nil, false
	}
	u, ok := it.(*unstructured.Unstructured)
	return u, ok
}

// HasUID reports whether key's cache holds an object with uid (of which the
// handler was told).
func (r *Registry) HasUID(k Key, uid types.UID) bool {
	_, ok := r.ByUID(k, uid)
	return ok
}

// ByUID returns the cached object of key with uid (of which the handler was
// told). It is shared: do not modify it.
func (r *Registry) ByUID(k Key, uid types.UID) (*unstructured.Unstructured, bool) {
	e := r.entry(k)
	if e == nil {
		return nil, false
	}
	return e.byUID(uid)
}

// ByLabel returns the cached objects of key carrying the label name=value.
// They are shared: do not modify them.
func (r *Registry) ByLabel(k Key, name, value string) []*unstructured.Unstructured {
	e := r.entry(k)
	if e == nil {
		return nil
	}
	items, err := e.informer.GetIndexer().ByIndex(labelIndex, labelIndexValue(name, value))
	if err != nil {
		return nil
	}
	out := make([]*unstructured.Unstructured, 0, len(items))
	for _, it := range items {
		if u, ok := it.(*unstructured.Unstructured); ok {
			out = append(out, u)
		}
	}
	return out
}

// Keys lists the keys of the running informers, sorted.
func (r *Registry) Keys() []Key {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]Key, 0, len(r.entries))
	for k := range r.entries {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}

func (r *Registry) entry(k Key) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.entries[k]
}

// indexByLabel indexes an object under each of its labels, so that the
// objects a label selector may match are found without looking at all.
func indexByLabel(obj any) ([]string, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, errors.New("object has no metadata")
	}
	labels := m.GetLabels()
	out := make([]string, 0, len(labels))
	for name, value := range labels {
		out = append(out, labelIndexValue(name, value))
	}
	return out, nil
}

// labelIndexValue is a label's key in the index. Label names cannot hold
// "=", so the pair is unambiguous.
func labelIndexValue(name, value string) string { return name + "=" + value }
