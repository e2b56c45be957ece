package workflow

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/testenv"
	"github.com/kubeci/kubeci/internal/trigger"
)

// createConfigMaps creates n ConfigMaps labelled app=many in ns, several at
// once, named cm-<i> from first on.
func createConfigMaps(t *testing.T, env *testenv.Env, ns string, first, n int) {
	t.Helper()
	const workers = 32
	var wg sync.WaitGroup
	next := atomic.Int64{}
	next.Store(int64(first - 1))
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1))
				if i >= first+n {
					return
				}
				cm := configMap(ns, fmt.Sprintf("cm-%06d", i), map[string]string{"app": "many"}, "1")
				if err := env.Client.Create(context.Background(), cm); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

func manyWorkflow(ns string) *kubeciv1.Workflow {
	return workflowWith(ns, "many", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true, OnDelete: true,
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "many"}}})
}

// shards returns the resourceVersion of each shard of wf's record, by name.
func shards(t *testing.T, env *testenv.Env, wf *kubeciv1.Workflow) map[string]string {
	t.Helper()
	var list kubeciv1.TriggerRecordList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(wf.Namespace),
		client.MatchingLabels{kubeciv1.LabelWorkflowUID: string(wf.UID)}); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tr := range list.Items {
		out[tr.Name] = tr.ResourceVersion
	}
	return out
}

// recorded returns the version wf's record holds for uid, if any.
func recorded(t *testing.T, env *testenv.Env, wf *kubeciv1.Workflow, uid string) (string, bool, error) {
	t.Helper()
	got := &kubeciv1.Workflow{}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(wf), got); err != nil {
		return "", false, err
	}
	n := int(got.Status.RecordShards)
	if n == 0 {
		v, ok := got.Status.LastObservedResourceGeneration[uid]
		return v, ok, nil
	}
	tr := &kubeciv1.TriggerRecord{}
	key := client.ObjectKey{Namespace: wf.Namespace, Name: fmt.Sprintf("%s-record-%d", wf.Name, trigger.ShardOf(uid, n))}
	if err := env.Client.Get(context.Background(), key, tr); err != nil {
		return "", false, err
	}
	v, ok := tr.Entries[uid]
	return v, ok, nil
}

// waitRecorded waits until wf's record holds uid (present) at a version other
// than not, or does not hold it.
func waitRecorded(t *testing.T, env *testenv.Env, wf *kubeciv1.Workflow, uid, not string, present bool) {
	t.Helper()
	testenv.Eventually(t, fmt.Sprintf("uid %s recorded (present=%v)", uid, present), func() error {
		v, ok, err := recorded(t, env, wf, uid)
		if err != nil {
			return err
		}
		if ok != present || (present && v == not) {
			return fmt.Errorf("recorded %v at %q", ok, v)
		}
		return nil
	})
}

// A record larger than the status holds is sharded; a change rewrites one
// shard and starts one run; a restart with nothing changed starts none; a
// change and a delete made while the operator is down start one run each.
func TestLargeRecordIsShardedAndExactlyOnce(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	const n = 1500
	createConfigMaps(t, env, ns, 0, n)
	wf := manyWorkflow(ns)
	create(t, env, wf)
	op := startOperator(t, env, ns)
	got := waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	want, _ := trigger.DefaultLimits.Grow(0, n)
	if int(got.Status.RecordShards) != want || len(got.Status.LastObservedResourceGeneration) != 0 || len(shards(t, env, wf)) != want {
		t.Fatalf("want the record of %d objects in %d shards, got %d shards, %d entries in the status, %v",
			n, want, got.Status.RecordShards, len(got.Status.LastObservedResourceGeneration), shards(t, env, wf))
	}
	waitWorkplans(t, env, ns, wf.Name, 0)

	before := shards(t, env, wf)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm-000007"}}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(cm), cm); err != nil {
		t.Fatal(err)
	}
	was, _, err := recorded(t, env, wf, string(cm.UID))
	if err != nil {
		t.Fatal(err)
	}
	update(t, env, cm, func(cm *corev1.ConfigMap) { cm.Data["data"] = "2" })
	waitWorkplans(t, env, ns, wf.Name, 1)
	waitRecorded(t, env, wf, string(cm.UID), was, true)
	changed := 0
	for name, rv := range shards(t, env, wf) {
		if before[name] != rv {
			changed++
		}
	}
	if changed != 1 {
		t.Errorf("one change rewrote %d shards, want 1", changed)
	}

	op.stopOperator()
	unchanged := decisions("unchanged")
	op = startOperator(t, env, ns)
	waitCount(t, "the restarted operator to decide on the unchanged objects", func() float64 { return decisions("unchanged") }, unchanged+n)
	waitWorkplans(t, env, ns, wf.Name, 1)

	op.stopOperator()
	update(t, env, cm, func(cm *corev1.ConfigMap) { cm.Data["data"] = "3" })
	gone := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm-000100"}}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(gone), gone); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Delete(context.Background(), gone); err != nil {
		t.Fatal(err)
	}
	startOperator(t, env, ns)
	runs := waitWorkplans(t, env, ns, wf.Name, 3)
	waitRecorded(t, env, wf, string(gone.UID), "", false)
	events := map[string]bool{}
	for _, wp := range runs[1:] {
		events[string(wp.Spec.Trigger.Event)+" "+string(wp.Spec.Trigger.UID)] = true
	}
	for _, want := range []string{"Updated " + string(cm.UID), "Deleted " + string(gone.UID)} {
		if !events[want] {
			t.Errorf("no run %q after the restart: %v", want, describe(runs))
		}
	}
}

// dyingTransport lets an operator make `after` writes to kube.ci objects
// (Workplans, TriggerRecords, Workflow statuses) and refuses every later one,
// as if the operator had died right after the write numbered `after`.
// With once, it refuses only the write after them, as a transient failure
// would.
type dyingTransport struct {
	next     http.RoundTripper
	after    atomic.Int64
	once     bool
	attempts atomic.Int64
}

func (d *dyingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && strings.HasPrefix(req.URL.Path, "/apis/kube.ci/") {
		after := d.after.Load()
		if n := d.attempts.Add(1); n > after && (!d.once || n == after+1) {
			return nil, fmt.Errorf("the operator died after %d writes", after)
		}
	}
	return d.next.RoundTrip(req)
}

// startDyingOperator starts an operator (with opts) that dies after `after`
// writes, waits until it has tried one more, and stops it.
func startDyingOperator(t *testing.T, env *testenv.Env, ns string, after int, opts Options) {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	dying := &dyingTransport{}
	dying.after.Store(int64(after))
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { dying.next = rt; return dying }
	op := startOperatorWithOptions(t, env, cfg, ns, opts)
	waitCount(t, fmt.Sprintf("the operator to die after %d writes", after), func() float64 { return float64(dying.attempts.Load()) }, float64(after+1))
	op.stopOperator()
}

// The operator dies after each write of a decision in turn (after none, after
// some of the runs, after the runs and between the shards of a split, before
// the new shard count is recorded); a restarted operator then converges to
// exactly one run per change.
//
// The record's limits are small (20 entries in the status, 16 in a shard), so
// that the split is reached with few objects; the code is the same at the
// real limits.
func TestCrashAtEveryRecordWriteStartsEachRunOnce(t *testing.T) {
	env := testenv.Get(t)
	opts := Options{RecordLimits: trigger.Limits{Inline: 20, Shard: 16, Shards: 64}}
	const existing, added = 15, 10 // the decision moves the record to 4 shards
	if n, _ := opts.RecordLimits.Grow(0, existing+added); n != 4 {
		t.Fatalf("the decision splits the record over %d shards, want 4", n)
	}
	// Writes of the decision: 10 Workplans, 4 shards, the status.
	for _, after := range []int{0, 5, 10, 11, 13, 14} {
		t.Run(fmt.Sprintf("dies after %d writes", after), func(t *testing.T) {
			ns := env.Namespace(t)
			grantWatch(t, env, ns, "", "configmaps")
			createConfigMaps(t, env, ns, 0, existing)
			wf := manyWorkflow(ns)
			create(t, env, wf)
			op := startOperatorWithOptions(t, env, env.Config, ns, opts)
			waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
			op.stopOperator()

			createConfigMaps(t, env, ns, existing, added)
			startDyingOperator(t, env, ns, after, opts)
			startOperatorWithOptions(t, env, env.Config, ns, opts)
			runs := waitWorkplans(t, env, ns, wf.Name, added)
			last := &corev1.ConfigMap{}
			if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("cm-%06d", existing+added-1)}, last); err != nil {
				t.Fatal(err)
			}
			waitRecorded(t, env, wf, string(last.UID), "", true)
			waitWorkplans(t, env, ns, wf.Name, added)
			perObject := map[string]int{}
			for _, wp := range runs {
				perObject[wp.Spec.Trigger.Name]++
			}
			if len(perObject) != added {
				t.Errorf("want one run for each of the %d new objects, got %v", added, describe(runs))
			}
		})
	}
}

// Once sharded, the operator dies after each write of a decision that changes
// objects in several shards and deletes one; a restarted operator converges to
// exactly one run per change.
func TestCrashBetweenShardWritesStartsEachRunOnce(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	const n = 1200
	createConfigMaps(t, env, ns, 0, n)
	wf := manyWorkflow(ns)
	create(t, env, wf)
	op := startOperator(t, env, ns)
	if got := waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching); got.Status.RecordShards == 0 {
		t.Fatal("want a sharded record")
	}
	op.stopOperator()

	var all corev1.ConfigMapList
	if err := env.Client.List(context.Background(), &all, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	got := &kubeciv1.Workflow{}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(wf), got); err != nil {
		t.Fatal(err)
	}
	// pick returns three objects not used yet, each in its own shard.
	used := map[string]bool{}
	pick := func() []*corev1.ConfigMap {
		var out []*corev1.ConfigMap
		inShard := map[int]bool{}
		for i := range all.Items {
			cm := &all.Items[i]
			s := trigger.ShardOf(string(cm.UID), int(got.Status.RecordShards))
			if used[cm.Name] || inShard[s] || cm.Labels["app"] != "many" {
				continue
			}
			used[cm.Name], inShard[s] = true, true
			out = append(out, cm)
			if len(out) == 3 {
				break
			}
		}
		return out
	}

	runs := 0
	// Writes of each decision: 3 Workplans, then 3 shards (the status is
	// unchanged).
	for round, after := range []int{0, 1, 3, 4, 5} {
		picked := pick()
		changed, gone := picked[:2], picked[2]
		versions := map[string]string{}
		for _, cm := range changed {
			v, _, err := recorded(t, env, wf, string(cm.UID))
			if err != nil {
				t.Fatal(err)
			}
			versions[string(cm.UID)] = v
			update(t, env, cm, func(cm *corev1.ConfigMap) { cm.Data["data"] = fmt.Sprint("round-", round) })
		}
		if err := env.Client.Delete(context.Background(), gone); err != nil {
			t.Fatal(err)
		}
		startDyingOperator(t, env, ns, after, Options{})
		op := startOperator(t, env, ns)
		runs += 3
		waitWorkplans(t, env, ns, wf.Name, runs)
		waitRecorded(t, env, wf, string(gone.UID), "", false)
		for _, cm := range changed {
			waitRecorded(t, env, wf, string(cm.UID), versions[string(cm.UID)], true)
		}
		waitWorkplans(t, env, ns, wf.Name, runs)
		op.stopOperator()
	}
}

// A running operator whose write fails (after each write of a decision in
// turn) decides again from what it was told, and starts each run once.
func TestFailedRecordWriteIsRetriedOnce(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	const n = 1200
	createConfigMaps(t, env, ns, 0, n)
	wf := manyWorkflow(ns)
	create(t, env, wf)
	cfg := rest.CopyConfig(env.Config)
	flaky := &dyingTransport{once: true}
	flaky.after.Store(1 << 40)
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { flaky.next = rt; return flaky }
	startOperatorWith(t, env, cfg, ns)
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	waitWorkplans(t, env, ns, wf.Name, 0)

	var all corev1.ConfigMapList
	if err := env.Client.List(context.Background(), &all, client.InNamespace(ns), client.MatchingLabels{"app": "many"}); err != nil {
		t.Fatal(err)
	}
	runs := 0
	// Writes of each decision: 2 Workplans, then the shards of 2 objects.
	for round, after := range []int{0, 1, 2, 3} {
		cms := []*corev1.ConfigMap{&all.Items[2*round], &all.Items[2*round+1]}
		versions := map[string]string{}
		for _, cm := range cms {
			v, _, err := recorded(t, env, wf, string(cm.UID))
			if err != nil {
				t.Fatal(err)
			}
			versions[string(cm.UID)] = v
		}
		flaky.after.Store(flaky.attempts.Load() + int64(after))
		for _, cm := range cms {
			update(t, env, cm, func(cm *corev1.ConfigMap) { cm.Data["data"] = fmt.Sprint("round-", round) })
		}
		runs += 2
		waitWorkplans(t, env, ns, wf.Name, runs)
		for _, cm := range cms {
			waitRecorded(t, env, wf, string(cm.UID), versions[string(cm.UID)], true)
		}
		waitWorkplans(t, env, ns, wf.Name, runs)
	}
}
