package workflow

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

func TestStaleReads(t *testing.T) {
	s := newStaleReads()
	key := types.NamespacedName{Namespace: "ns", Name: "wf"}
	if s.newer(key, "1") != nil {
		t.Fatal("nothing written: the cache is current")
	}
	s.wrote(key, "1", &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "2"}})
	if got := s.newer(key, "1"); got == nil || got.ResourceVersion != "2" {
		t.Fatalf("a cache still at the replaced version must give the written Workflow, got %v", got)
	}
	if got := s.newer(key, "3"); got != nil {
		t.Fatalf("a cache at another version is current, got %v", got)
	}
	if got := s.newer(key, "1"); got != nil {
		t.Fatal("once the cache moved on, the write is forgotten")
	}
}

// The cache's informer drops a write's result once the cache holds another
// version, and only then.
func TestStaleReadsForgetsWhatTheCacheHolds(t *testing.T) {
	s := newStaleReads()
	key := types.NamespacedName{Namespace: "ns", Name: "wf"}
	s.wrote(key, "1", &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "2"}})
	s.cached(key, "1")
	if got := s.newer(key, "1"); got == nil || got.ResourceVersion != "2" {
		t.Fatalf("the cache still holds the replaced version: the write must stay, got %v", got)
	}
	s.cached(types.NamespacedName{Namespace: "ns", Name: "other"}, "2")
	s.cached(key, "2")
	if len(s.written) != 0 {
		t.Fatalf("the cache holds the written version: nothing must stay, got %v", s.written)
	}
	if got := s.newer(key, "1"); got != nil {
		t.Fatalf("a forgotten write is not returned, got %v", got)
	}
}

// A write the cache already caught up with is not kept.
func TestStaleReadsKeepsNoWriteTheCacheHas(t *testing.T) {
	s := newStaleReads()
	key := types.NamespacedName{Namespace: "ns", Name: "wf"}
	cached := map[types.NamespacedName]string{key: "1"}
	s.cachedVersion = func(k types.NamespacedName) (string, bool) { rv, ok := cached[k]; return rv, ok }
	s.wrote(key, "1", &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "2"}})
	if got := s.newer(key, "1"); got == nil || got.ResourceVersion != "2" {
		t.Fatalf("the cache still holds the replaced version: the write must be kept, got %v", got)
	}
	cached[key] = "2"
	s.wrote(key, "2", &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "3"}})
	if got := s.newer(key, "2"); got == nil {
		t.Fatal("the cache holds the replaced version 2: the write must be kept")
	}
	cached[key] = "4"
	s.wrote(key, "3", &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "4"}})
	if len(s.written) != 0 {
		t.Fatalf("the cache holds a version past the replaced one: nothing must be kept, got %v", s.written)
	}
	delete(cached, key)
	s.wrote(key, "4", &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "5"}})
	if s.newer(key, "4") == nil {
		t.Fatal("a Workflow the cache does not hold: the write must be kept")
	}
}
