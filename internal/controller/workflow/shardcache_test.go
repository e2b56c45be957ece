package workflow

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/testenv"
	"github.com/kubeci/kubeci/internal/trigger"
)

// Once it has written a shard, the operator decides the next change of its
// objects without reading the shard again; a shard changed behind its back
// (as another writer would) makes its next write fail on the resourceVersion,
// and it decides again from a fresh read: one run per change, and the record
// holds the object's current version.
func TestShardChangedBehindTheOperatorIsReadAgain(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	opts := Options{RecordLimits: trigger.Limits{Inline: 2, Shard: 8, Shards: 4}}
	createConfigMaps(t, env, ns, 0, 6)
	wf := manyWorkflow(ns)
	create(t, env, wf)
	op, counting := startCountingOperatorWithOptions(t, env, ns, opts)
	got := waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	if got.Status.RecordShards == 0 {
		t.Fatal("want a sharded record")
	}
	n := int(got.Status.RecordShards)

	// Two objects of one shard: the first change writes (and keeps) it.
	var all corev1.ConfigMapList
	if err := env.Client.List(context.Background(), &all, client.InNamespace(ns), client.MatchingLabels{"app": "many"}); err != nil {
		t.Fatal(err)
	}
	byShard := map[int][]*corev1.ConfigMap{}
	for i := range all.Items {
		s := trigger.ShardOf(string(all.Items[i].UID), n)
		byShard[s] = append(byShard[s], &all.Items[i])
	}
	var a, b *corev1.ConfigMap
	for _, cms := range byShard {
		if len(cms) >= 2 {
			a, b = cms[0], cms[1]
		}
	}
	if a == nil {
		t.Fatalf("no shard of %d holds two of the 6 objects: %v", n, byShard)
	}
	update(t, env, a, func(cm *corev1.ConfigMap) { cm.Data["data"] = "2" })
	waitWorkplans(t, env, ns, wf.Name, 1)
	waitRecorded(t, env, wf, string(a.UID), "", true)
	time.Sleep(200 * time.Millisecond) // let the decision's writes finish
	counting.take()

	was, _, err := recorded(t, env, wf, string(b.UID))
	if err != nil {
		t.Fatal(err)
	}
	update(t, env, b, func(cm *corev1.ConfigMap) { cm.Data["data"] = "2" })
	waitWorkplans(t, env, ns, wf.Name, 2)
	waitRecorded(t, env, wf, string(b.UID), was, true)
	time.Sleep(200 * time.Millisecond)
	if counts, _ := counting.take(); counts["GET triggerrecords"] != 0 || counts["PUT triggerrecords"] != 1 {
		t.Errorf("a change of an object whose shard the operator wrote: want no shard read and one write, got %v", counts)
	}

	// Another writer changes the shard: b's entry now says another version.
	tr := &kubeciv1.TriggerRecord{}
	name := fmt.Sprintf("%s-record-%d", wf.Name, trigger.ShardOf(string(b.UID), n))
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, tr); err != nil {
		t.Fatal(err)
	}
	tr.Entries[string(b.UID)] = "h:written-by-someone-else"
	if err := env.Client.Update(context.Background(), tr); err != nil {
		t.Fatal(err)
	}
	update(t, env, b, func(cm *corev1.ConfigMap) { cm.Data["data"] = "3" })
	waitWorkplans(t, env, ns, wf.Name, 3)
	waitRecorded(t, env, wf, string(b.UID), "h:written-by-someone-else", true)
	v, _, err := recorded(t, env, wf, string(b.UID))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // a second run would show up by now
	runs := waitWorkplans(t, env, ns, wf.Name, 3)
	if counts, _ := counting.take(); counts["GET triggerrecords"] < 1 || counts["PUT triggerrecords"] < 2 {
		t.Errorf("want the failed write read again and redone, got %v", counts)
	}
	if v2, _, _ := recorded(t, env, wf, string(b.UID)); v2 != v {
		t.Errorf("the record of %s changed from %q to %q without a change", b.Name, v, v2)
	}
	perObject := map[string]int{}
	for _, wp := range runs {
		perObject[wp.Spec.Trigger.Name]++
	}
	if perObject[a.Name] != 1 || perObject[b.Name] != 2 {
		t.Errorf("want 1 run for %s and 2 for %s, got %v", a.Name, b.Name, describe(runs))
	}
	op.stopOperator()
}
