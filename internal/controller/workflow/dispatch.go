package workflow

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/kubeci/kubeci/internal/trigger"
	"github.com/kubeci/kubeci/internal/watch"
)

// dispatcher turns shared-informer events into reconcile requests for the
// Workflows whose triggers they match. It filters cheaply (namespace, name,
// labels, unchanged generation) so that status-only and metadata-only updates
// wake nobody. It also remembers, per Workflow, the last state of deleted
// objects (Decide needs it to describe the run) and when each change arrived
// (for the trigger latency metric). Those changed objects are what a
// Workflow's next decision looks at, unless it must look at every object
// (snapshot).
type dispatcher struct {
	gens  *generations
	clock clock.PassiveClock

	mu    sync.Mutex
	queue workqueue.TypedRateLimitingInterface[reconcile.Request]
	// byKey holds, for each informer, the filters of each Workflow using it;
	// index finds those an event may concern.
	byKey    map[watch.Key]map[types.NamespacedName][]trigger.Filter
	index    *ownerIndex
	gone     map[types.NamespacedName]map[types.UID]goneObject
	received map[types.NamespacedName]map[types.UID]receipt
	// seq numbers what owners are told, so that a decision forgets only what
	// it saw.
	seq uint64
	// epoch counts, per Workflow, what may have been missed (a watch error);
	// fullAt is the epoch of its last whole decision, absent until it made one.
	epoch  map[types.NamespacedName]uint64
	fullAt map[types.NamespacedName]uint64
}

type goneObject struct {
	object trigger.Object
	seq    uint64
}

// receipt is when a change of an object first reached a Workflow since its
// last decision, and the number of the latest one.
type receipt struct {
	at  time.Time
	seq uint64
}

// snapshot is what a decision starts from: whether it must look at every
// object the Workflow matches (its first decision since the operator started
// or since a watch error), and else the objects changed since the last one.
type snapshot struct {
	whole   bool
	changed map[types.UID]bool
	seq     uint64
	epoch   uint64
}

func newDispatcher(gens *generations, c clock.PassiveClock) *dispatcher {
	return &dispatcher{gens: gens, clock: c,
		byKey:    map[watch.Key]map[types.NamespacedName][]trigger.Filter{},
		index:    newOwnerIndex(),
		gone:     map[types.NamespacedName]map[types.UID]goneObject{},
		received: map[types.NamespacedName]map[types.UID]receipt{},
		epoch:    map[types.NamespacedName]uint64{},
		fullAt:   map[types.NamespacedName]uint64{}}
}

// source is the controller's source of requests from the shared informers.
func (d *dispatcher) source() source.Source {
	return source.Func(func(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		d.mu.Lock()
		d.queue = q
		d.mu.Unlock()
		return nil
	})
}

// setFilters makes owner's filters the ones events are matched against.
func (d *dispatcher) setFilters(owner types.NamespacedName, filters []trigger.Filter) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dropFiltersLocked(owner)
	for _, f := range filters {
		k := keyOf(f.Target)
		if d.byKey[k] == nil {
			d.byKey[k] = map[types.NamespacedName][]trigger.Filter{}
		}
		d.byKey[k][owner] = append(d.byKey[k][owner], f)
	}
	for k, owners := range d.byKey {
		if fs, ok := owners[owner]; ok {
			d.index.set(k, owner, fs)
		}
	}
}

// remove forgets owner entirely.
func (d *dispatcher) remove(owner types.NamespacedName) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dropFiltersLocked(owner)
	delete(d.gone, owner)
	delete(d.received, owner)
	delete(d.epoch, owner)
	delete(d.fullAt, owner)
}

func (d *dispatcher) dropFiltersLocked(owner types.NamespacedName) {
	for k, owners := range d.byKey {
		if fs, ok := owners[owner]; ok {
			d.index.drop(k, owner, fs)
		}
		delete(owners, owner)
		if len(owners) == 0 {
			delete(d.byKey, k)
		}
	}
}

// OnEvent implements watch.Handler.
func (d *dispatcher) OnEvent(key watch.Key, ev watch.Event) {
	now := d.clock.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.seq++
	candidates := d.index.owners(key, ev.Old, ev.New)
	triggerEvents.WithLabelValues(string(trigger.EventFiltered)).Add(float64(len(d.byKey[key]) - len(candidates)))
	for owner := range candidates {
		filters := d.byKey[key][owner]
		if len(filters) == 0 {
			continue
		}
		result := trigger.Classify(filters, ev.Old, ev.New, d.gens.of)
		triggerEvents.WithLabelValues(string(result)).Inc()
		if result != trigger.EventAccepted {
			continue
		}
		obj := ev.New
		if ev.Type == watch.Deleted {
			obj = ev.Old
			m, _ := trigger.MatchObject(filters, filters[0].Target, obj)
			m.OnAddOrUpdate = false
			if d.gone[owner] == nil {
				d.gone[owner] = map[types.UID]goneObject{}
			}
			d.gone[owner][obj.GetUID()] = goneObject{object: objectOf(obj, filters[0].Target, m, ""), seq: d.seq}
		}
		if d.received[owner] == nil {
			d.received[owner] = map[types.UID]receipt{}
		}
		r, seen := d.received[owner][obj.GetUID()]
		if !seen {
			r.at = now
		}
		r.seq = d.seq
		d.received[owner][obj.GetUID()] = r
		d.enqueueLocked(owner)
	}
	if ev.Type == watch.Deleted {
		d.gens.forget(ev.Old.GetUID())
	}
}

// OnSynced implements watch.Handler: the Workflows using key can now decide.
func (d *dispatcher) OnSynced(key watch.Key) { d.enqueueOwners(key) }

// OnWatchError implements watch.Handler: the Workflows using key report it,
// and look at every object at their next decision, since the informer may
// have missed changes.
func (d *dispatcher) OnWatchError(key watch.Key, _ error) {
	d.mu.Lock()
	for owner := range d.byKey[key] {
		d.epoch[owner]++
	}
	d.mu.Unlock()
	d.enqueueOwners(key)
}

func (d *dispatcher) enqueueOwners(key watch.Key) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for owner := range d.byKey[key] {
		d.enqueueLocked(owner)
	}
}

func (d *dispatcher) enqueueLocked(owner types.NamespacedName) {
	if d.queue != nil {
		d.queue.Add(reconcile.Request{NamespacedName: owner})
	}
}

// goneObjects returns the deleted objects owner has been told of.
func (d *dispatcher) goneObjects(owner types.NamespacedName) map[types.UID]trigger.Object {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[types.UID]trigger.Object, len(d.gone[owner]))
	for uid, g := range d.gone[owner] {
		out[uid] = g.object
	}
	return out
}

// receivedAt returns when a change of uid first reached owner since its last
// decision, if it did.
func (d *dispatcher) receivedAt(owner types.NamespacedName, uid types.UID) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.received[owner][uid]
	return r.at, ok
}

// snapshot returns what owner's next decision starts from. Take it before
// reading the informers: what they are told later stays for the decision
// after.
func (d *dispatcher) snapshot(owner types.NamespacedName) snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	full, ok := d.fullAt[owner]
	s := snapshot{seq: d.seq, epoch: d.epoch[owner], changed: make(map[types.UID]bool, len(d.received[owner]))}
	s.whole = !ok || full != s.epoch
	for uid := range d.received[owner] {
		s.changed[uid] = true
	}
	return s
}

// decided forgets what owner was told up to snapshot s, whose decision is
// recorded: later events stay for the next decision.
func (d *dispatcher) decided(owner types.NamespacedName, s snapshot) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s.whole {
		d.fullAt[owner] = s.epoch
	}
	for uid, g := range d.gone[owner] {
		if g.seq <= s.seq {
			delete(d.gone[owner], uid)
		}
	}
	for uid, r := range d.received[owner] {
		if r.seq <= s.seq {
			delete(d.received[owner], uid)
		}
	}
	// An emptied map keeps the room it grew to: with 1,000 Workflows told of
	// their first lists, about a MB.
	if len(d.gone[owner]) == 0 {
		delete(d.gone, owner)
	}
	if len(d.received[owner]) == 0 {
		delete(d.received, owner)
	}
}

// keyOf is the informer a target is watched with.
func keyOf(t trigger.Target) watch.Key {
	return watch.Key{GVR: t.GVR, Namespace: t.Namespace}
}

// objectOf describes obj, which matches m, for Decide.
func objectOf(obj *unstructured.Unstructured, t trigger.Target, m trigger.Match, gen string) trigger.Object {
	return trigger.Object{
		UID:             obj.GetUID(),
		APIVersion:      t.APIVersion(),
		Kind:            t.Kind,
		Namespace:       obj.GetNamespace(),
		Name:            obj.GetName(),
		ResourceVersion: obj.GetResourceVersion(),
		Generation:      gen,
		Created:         obj.GetCreationTimestamp().Time,
		OnAddOrUpdate:   m.OnAddOrUpdate,
		OnDelete:        m.OnDelete,
		Paths:           m.Paths,
		Source:          obj,
	}
}
