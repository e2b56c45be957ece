package workflow

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/testenv"
)

// countingTransport counts an operator's requests to kube.ci objects, and the
// bytes of its writes.
type countingTransport struct {
	next http.RoundTripper

	mu     sync.Mutex
	counts map[string]int // "GET triggerrecords", "PUT workflows", ...
	bytes  int64          // written
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if rest, ok := strings.CutPrefix(req.URL.Path, "/apis/kube.ci/v1alpha1/"); ok {
		resource := ""
		if parts := strings.Split(rest, "/"); len(parts) >= 3 {
			resource = parts[2]
		}
		c.mu.Lock()
		c.counts[req.Method+" "+resource]++
		if req.Method != http.MethodGet && req.ContentLength > 0 {
			c.bytes += req.ContentLength
		}
		c.mu.Unlock()
	}
	return c.next.RoundTrip(req)
}

func (c *countingTransport) take() (map[string]int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	counts, bytes := c.counts, c.bytes
	c.counts, c.bytes = map[string]int{}, 0
	return counts, bytes
}

func startCountingOperator(t *testing.T, env *testenv.Env, ns string) (*operator, *countingTransport) {
	t.Helper()
	return startCountingOperatorWithOptions(t, env, ns, Options{})
}

// startCountingOperatorWithOptions starts an operator with opts whose
// requests are counted.
func startCountingOperatorWithOptions(t *testing.T, env *testenv.Env, ns string, opts Options) (*operator, *countingTransport) {
	t.Helper()
	cfg := rest.CopyConfig(env.Config)
	counting := &countingTransport{counts: map[string]int{}}
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { counting.next = rt; return counting }
	return startOperatorWithOptions(t, env, cfg, ns, opts), counting
}

// heapMiB is the live heap after a collection, in MiB.
func heapMiB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// A Workflow matching many ConfigMaps (KUBECI_SCALE_OBJECTS, 3,000 by
// default, 100,000 in CI (.ci/run); the figures in docs/triggers.md come from 1,000 to 100,000): one
// change starts one run at a cost in API requests and bytes that does not grow
// with the number of objects; a restart with nothing changed starts none; a
// change and deletes made while the operator is down start one run each.
func TestManyObjectsOneRunPerChange(t *testing.T) {
	n := 3000
	if s := os.Getenv("KUBECI_SCALE_OBJECTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	start := time.Now()
	createConfigMaps(t, env, ns, 0, n)
	t.Logf("%d ConfigMaps created in %v", n, time.Since(start).Round(time.Second))
	wf := manyWorkflow(ns)
	create(t, env, wf)

	heapBefore := heapMiB()
	start = time.Now()
	op, counting := startCountingOperator(t, env, ns)
	got := waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	counts, bytes := counting.take()
	t.Logf("first decision (baseline) over %d objects: %v, %d shards, %v, %d KiB written; heap +%.0f MiB",
		n, time.Since(start).Round(time.Millisecond), got.Status.RecordShards, counts, bytes>>10, heapMiB()-heapBefore)
	waitWorkplans(t, env, ns, wf.Name, 0)

	runs := 0
	for i := range 3 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("cm-%06d", i*(n/3))}}
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(cm), cm); err != nil {
			t.Fatal(err)
		}
		was, _, err := recorded(t, env, wf, string(cm.UID))
		if err != nil {
			t.Fatal(err)
		}
		counting.take()
		start = time.Now()
		update(t, env, cm, func(cm *corev1.ConfigMap) { cm.Data["data"] = "2" })
		runs++
		waitWorkplans(t, env, ns, wf.Name, runs)
		waitRecorded(t, env, wf, string(cm.UID), was, true)
		time.Sleep(200 * time.Millisecond) // let the decision's writes finish
		counts, bytes := counting.take()
		t.Logf("one change over %d objects: run in %v; operator requests %v, %d bytes written", n, time.Since(start).Round(time.Millisecond), counts, bytes)
		if w := counts["PUT triggerrecords"] + counts["POST triggerrecords"] + counts["PATCH workflows"]; w > 1 {
			t.Errorf("one change wrote the record %d times, want 1: %v", w, counts)
		}
		if r := counts["GET triggerrecords"]; got.Status.RecordShards > 0 && r > 1 {
			t.Errorf("one change read %d shards, want 1: %v", r, counts)
		}
	}

	op.stopOperator()
	unchanged := decisions("unchanged")
	op = startOperator(t, env, ns)
	waitCount(t, "the restarted operator to decide on the unchanged objects", func() float64 { return decisions("unchanged") }, unchanged+float64(n))
	waitWorkplans(t, env, ns, wf.Name, runs)

	op.stopOperator()
	changed := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "cm-000001"}}
	update(t, env, changed, func(cm *corev1.ConfigMap) { cm.Data["data"] = "3" })
	var deleted []string
	for i := 2; i < 5; i++ {
		cm := &corev1.ConfigMap{}
		if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: fmt.Sprintf("cm-%06d", i)}, cm); err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Delete(context.Background(), cm); err != nil {
			t.Fatal(err)
		}
		deleted = append(deleted, string(cm.UID))
	}
	startOperator(t, env, ns)
	runs += 4
	all := waitWorkplans(t, env, ns, wf.Name, runs)
	for _, uid := range deleted {
		waitRecorded(t, env, wf, uid, "", false)
	}
	waitWorkplans(t, env, ns, wf.Name, runs)
	events := map[string]bool{}
	for _, wp := range all {
		events[string(wp.Spec.Trigger.Event)+" "+string(wp.Spec.Trigger.UID)] = true
	}
	for _, want := range append([]string{"Updated " + string(changed.UID)}, prefix("Deleted ", deleted)...) {
		if !events[want] {
			t.Errorf("no run %q after the restart", want)
		}
	}
}

func prefix(p string, s []string) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = p + s[i]
	}
	return out
}
