package workflow

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/kubeci/kubeci/internal/trigger"
	"github.com/kubeci/kubeci/internal/watch"
)

func cm(uid, data string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"d": data}}}
	u.SetNamespace("ns")
	u.SetName("cm-" + uid)
	u.SetUID(types.UID(uid))
	u.SetResourceVersion(data)
	return u
}

// What a decision looks at: every object at a Workflow's first decision and
// after a watch error; else the objects it was told of since the last
// recorded decision, including those told of while a decision ran.
func TestDispatcherSnapshots(t *testing.T) {
	d := newDispatcher(newGenerations(), clock.RealClock{})
	owner := types.NamespacedName{Namespace: "ns", Name: "wf"}
	target := trigger.Target{GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Kind: "ConfigMap", Namespace: "ns"}
	d.setFilters(owner, []trigger.Filter{{Target: target, Selector: labels.Everything(), OnAddOrUpdate: true, OnDelete: true}})
	key := keyOf(target)
	changed := func(s snapshot) []string {
		var out []string
		for _, u := range []string{"a", "b", "c"} {
			if s.changed[types.UID(u)] {
				out = append(out, u)
			}
		}
		return out
	}

	d.OnEvent(key, watch.Event{Type: watch.Added, New: cm("a", "1")})
	s := d.snapshot(owner)
	if !s.whole {
		t.Fatal("a first decision must look at every object")
	}
	d.OnEvent(key, watch.Event{Type: watch.Added, New: cm("b", "1")}) // while deciding
	d.decided(owner, s)

	s = d.snapshot(owner)
	if s.whole || !cmp.Equal(changed(s), []string{"b"}) {
		t.Fatalf("after a whole decision: want b only, got whole=%v %v", s.whole, changed(s))
	}
	d.OnEvent(key, watch.Event{Type: watch.Updated, Old: cm("b", "1"), New: cm("b", "2")}) // b again, while deciding
	d.OnEvent(key, watch.Event{Type: watch.Updated, Old: cm("c", "1"), New: cm("c", "1")}) // nothing changed
	d.decided(owner, s)
	if s = d.snapshot(owner); s.whole || !cmp.Equal(changed(s), []string{"b"}) {
		t.Fatalf("b changed while it was decided: want it decided again, got whole=%v %v", s.whole, changed(s))
	}
	d.decided(owner, s)
	if s = d.snapshot(owner); s.whole || len(s.changed) != 0 {
		t.Fatalf("want nothing to decide, got whole=%v %v", s.whole, changed(s))
	}

	d.OnWatchError(key, nil)
	if s = d.snapshot(owner); !s.whole {
		t.Fatal("after a watch error a decision must look at every object")
	}
	d.OnWatchError(key, nil) // while deciding
	d.decided(owner, s)
	if s = d.snapshot(owner); !s.whole {
		t.Fatal("a watch error during a whole decision must make the next one whole too")
	}
	d.decided(owner, s)
	d.remove(owner)
	if s = d.snapshot(owner); !s.whole {
		t.Fatal("a Workflow watched again must look at every object")
	}
}
