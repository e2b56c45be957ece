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
