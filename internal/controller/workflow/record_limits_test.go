package workflow

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/testenv"
	"github.com/kubeci/kubeci/internal/trigger"
)

// recordSize reads where wf's record lives: its shard count and the entries
// in its status and in its shards (those that belong there).
func recordSize(t *testing.T, env *testenv.Env, wf *kubeciv1.Workflow) (shardCount, inStatus, inShards int) {
	t.Helper()
	got := &kubeciv1.Workflow{}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(wf), got); err != nil {
		t.Fatal(err)
	}
	shardCount = int(got.Status.RecordShards)
	var list kubeciv1.TriggerRecordList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(wf.Namespace),
		client.MatchingLabels{kubeciv1.LabelWorkflowUID: string(wf.UID)}); err != nil {
		t.Fatal(err)
	}
	for _, tr := range list.Items {
		if int(tr.Shard) < shardCount {
			inShards += len(trigger.InShard(tr.Entries, int(tr.Shard), shardCount))
		}
	}
	return shardCount, len(got.Status.LastObservedResourceGeneration), inShards
}

// waitRecordSize waits until wf's record is in shards shards (zero: the
// status) and holds entries entries.
func waitRecordSize(t *testing.T, env *testenv.Env, wf *kubeciv1.Workflow, shards, entries int) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("the record in %d shards with %d entries", shards, entries), func() error {
		n, inStatus, inShards := recordSize(t, env, wf)
		want := [3]int{shards, 0, entries}
		if shards == 0 {
			want = [3]int{0, entries, 0}
		}
		if got := [3]int{n, inStatus, inShards}; got != want {
			return fmt.Errorf("%d shards, %d entries in the status, %d in shards", n, inStatus, inShards)
		}
		return nil
	})
}

// A Workflow whose matched set grows past the status's bound (the real one,
// InlineMax) moves its record to shards, starting one run per new object; a
// set that shrinks back below it keeps the record in its shards (it never
// moves back), with one onDelete run per deleted object; a restart then starts
// nothing, and changes still start one run each.
func TestRecordMovesToShardsAcrossTheStatusBound(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	const existing, added, removed = trigger.InlineMax - 10, 20, 30
	createConfigMaps(t, env, ns, 0, existing)
	wf := manyWorkflow(ns)
	create(t, env, wf)
	op := startOperator(t, env, ns)
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	waitRecordSize(t, env, wf, 0, existing)

	createConfigMaps(t, env, ns, existing, added)
	runs := added
	waitWorkplans(t, env, ns, wf.Name, runs)
	shardCount, _ := trigger.DefaultLimits.Grow(0, existing+added)
	waitRecordSize(t, env, wf, shardCount, existing+added)

	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "cm-000003"}, cm); err != nil {
		t.Fatal(err)
	}
	update(t, env, cm, func(cm *corev1.ConfigMap) { cm.Data["data"] = "2" })
	runs++
	waitWorkplans(t, env, ns, wf.Name, runs)

	var deleted []string
	for i := existing + added - removed; i < existing+added; i++ {
		gone := &corev1.ConfigMap{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("cm-%06d", i)}, gone); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Delete(context.Background(), gone); err != nil {
			t.Fatal(err)
		}
		deleted = append(deleted, string(gone.UID))
	}
	runs += removed
	got := waitWorkplans(t, env, ns, wf.Name, runs)
	waitRecordSize(t, env, wf, shardCount, existing+added-removed)
	perEvent := map[string]int{}
	for _, wp := range got {
		perEvent[string(wp.Spec.Trigger.Event)+" "+string(wp.Spec.Trigger.UID)]++
	}
	for _, uid := range deleted {
		if n := perEvent["Deleted "+uid]; n != 1 {
			t.Errorf("object %s deleted: %d runs, want 1", uid, n)
		}
	}

	op.stopOperator()
	unchanged := decisions("unchanged")
	startOperator(t, env, ns)
	waitCount(t, "the restarted operator to decide on the unchanged objects", func() float64 { return decisions("unchanged") },
		unchanged+float64(existing+added-removed))
	update(t, env, cm, func(cm *corev1.ConfigMap) { cm.Data["data"] = "3" })
	runs++
	waitWorkplans(t, env, ns, wf.Name, runs)
	time.Sleep(time.Second) // a duplicate would show up by now
	waitWorkplans(t, env, ns, wf.Name, runs)
}

// A Workflow matching more objects than its record may hold (here a small
// bound: 2 shards of 4 entries, so 4 objects) says so, Ready=False with
// reason TooManyObjects and the numbers, and starts nothing; once objects are
// removed it looks again, is Ready, and changes start runs.
func TestTooManyObjectsIsReportedAndRecovers(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	opts := Options{RecordLimits: trigger.Limits{Inline: 2, Shard: 4, Shards: 2}, TooManyObjectsRetry: time.Second}
	createConfigMaps(t, env, ns, 0, 5)
	wf := manyWorkflow(ns)
	create(t, env, wf)
	startOperatorWithOptions(t, env, env.Config, ns, opts)

	got := waitReady(t, env, wf, metav1.ConditionFalse, kubeciv1.ReasonTooManyObjects)
	msg := meta.FindStatusCondition(got.Status.Conditions, kubeciv1.ConditionReady).Message
	for _, want := range []string{"match 5 objects", "more than the 4", "2 shards of 4 entries", "narrowed"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the Ready condition's message %q does not say %q", msg, want)
		}
	}
	if n, inStatus, inShards := recordSize(t, env, wf); n+inStatus+inShards != 0 {
		t.Errorf("nothing may be recorded, got %d shards, %d entries in the status, %d in shards", n, inStatus, inShards)
	}

	gone := &corev1.ConfigMap{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "cm-000004"}, gone); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(context.Background(), gone); err != nil {
		t.Fatal(err)
	}
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	waitRecordSize(t, env, wf, 2, 4)
	waitWorkplans(t, env, ns, wf.Name, 0)

	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "cm-000001"}, cm); err != nil {
		t.Fatal(err)
	}
	update(t, env, cm, func(cm *corev1.ConfigMap) { cm.Data["data"] = "2" })
	waitWorkplans(t, env, ns, wf.Name, 1)
}
