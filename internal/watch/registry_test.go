package watch

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/kubeci/kubeci/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var configmaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// recorder is a Handler that remembers what it was told.
type recorder struct {
	mu     sync.Mutex
	events []string
	synced map[Key]bool
}

func (r *recorder) OnEvent(k Key, ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	obj := ev.New
	if obj == nil {
		obj = ev.Old
	}
	r.events = append(r.events, fmt.Sprintf("%d %s", ev.Type, obj.GetName()))
}

func (r *recorder) OnSynced(k Key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.synced[k] = true
}

func (r *recorder) OnWatchError(Key, error) {}

func (r *recorder) has(event string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e == event {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startRegistry starts a Registry on env's API server, telling rec of its
// informers and events, until the test ends.
func startRegistry(t *testing.T, env *testenv.Env) (*Registry, *recorder, context.Context) {
	t.Helper()
	rec := &recorder{synced: map[Key]bool{}}
	reg, err := NewRegistry(env.Config, rec)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = reg.Start(ctx) }()
	return reg, rec, ctx
}

// Informers are shared per resource and namespace, counted, and stopped when
// the last owner lets go.
func TestRegistrySharesAndReleasesInformers(t *testing.T) {
	env := testenv.Get(t)
	nsA, nsB := env.Namespace(t), env.Namespace(t)
	reg, rec, _ := startRegistry(t, env)

	a, b := Key{GVR: configmaps, Namespace: nsA}, Key{GVR: configmaps, Namespace: nsB}
	wf1, wf2, wf3 := types.NamespacedName{Name: "wf1"}, types.NamespacedName{Name: "wf2"}, types.NamespacedName{Name: "wf3"}
	reg.Set(wf1, []Key{a})
	reg.Set(wf2, []Key{a})
	reg.Set(wf3, []Key{a, b})
	if got := len(reg.Keys()); got != 2 {
		t.Fatalf("three owners of two keys must share two informers, got %d", got)
	}
	waitFor(t, "both informers to sync", func() bool {
		sa, _ := reg.State(a)
		sb, _ := reg.State(b)
		return sa && sb
	})

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: nsA, Name: "x", Labels: map[string]string{"app": "web"}}}
	if err := env.Client.Create(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Added event", func() bool { return rec.has(fmt.Sprintf("%d x", Added)) })
	if _, ok := reg.Get(a, nsA, "x"); !ok || !reg.HasUID(a, cm.UID) {
		t.Error("the cache must find the object by name and by UID")
	}
	if got := reg.ByLabel(a, "app", "web"); len(got) != 1 || got[0].GetName() != "x" {
		t.Errorf("ByLabel(app=web) = %d objects, want x", len(got))
	}
	if got := reg.ByLabel(a, "app", "db"); len(got) != 0 {
		t.Errorf("ByLabel(app=db) = %d objects, want none", len(got))
	}
	if err := env.Client.Delete(context.Background(), cm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the Deleted event", func() bool { return rec.has(fmt.Sprintf("%d x", Deleted)) })

	reg.Remove(wf3)
	if keys := reg.Keys(); len(keys) != 1 || keys[0] != a {
		t.Errorf("b has no owner left and must stop; running: %v", keys)
	}
	if _, err := reg.State(b); err != ErrNotWatched {
		t.Errorf("a stopped key reports %v, want ErrNotWatched", err)
	}
	reg.Set(wf1, nil)
	reg.Remove(wf2)
	if keys := reg.Keys(); len(keys) != 0 {
		t.Errorf("no owner left, yet running: %v", keys)
	}
}

func TestDeletedObjectUnwrapsTombstones(t *testing.T) {
	u := &unstructured.Unstructured{}
	u.SetName("gone")
	for _, in := range []any{u, cache.DeletedFinalStateUnknown{Key: "ns/gone", Obj: u}} {
		got, ok := deletedObject(in)
		if !ok || got.GetName() != "gone" {
			t.Errorf("deletedObject(%T) = %v, %v", in, got, ok)
		}
	}
	if _, ok := deletedObject(cache.DeletedFinalStateUnknown{Key: "ns/x", Obj: "junk"}); ok {
		t.Error("a tombstone without an object must be ignored")
	}
}

// An object is found by UID once the handler is told of it, and no longer
// once deleted, also when an object of the same name replaces it.
func TestRegistryFindsObjectsByUID(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	reg, _, ctx := startRegistry(t, env)
	k := Key{GVR: configmaps, Namespace: ns}

	first := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "x"}}
	if err := env.Client.Create(ctx, first); err != nil {
		t.Fatal(err)
	}
	reg.Set(types.NamespacedName{Name: "wf"}, []Key{k})
	waitFor(t, "the informer to sync", func() bool { s, _ := reg.State(k); return s })
	if got, ok := reg.ByUID(k, first.UID); !ok || got.GetName() != "x" || !reg.HasUID(k, first.UID) {
		t.Fatalf("an object of the first list must be found by UID, got %v, %v", got, ok)
	}
	if err := env.Client.Delete(ctx, first); err != nil {
		t.Fatal(err)
	}
	second := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "x"}}
	if err := env.Client.Create(ctx, second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new object", func() bool { return reg.HasUID(k, second.UID) })
	if reg.HasUID(k, first.UID) {
		t.Error("a deleted object must not be found by UID, though its name is taken again")
	}
	if got, ok := reg.ByUID(k, second.UID); !ok || got.GetUID() != second.UID {
		t.Errorf("ByUID(new) = %v, %v", got, ok)
	}
	if err := env.Client.Delete(ctx, second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deletion", func() bool { return !reg.HasUID(k, second.UID) })
}
