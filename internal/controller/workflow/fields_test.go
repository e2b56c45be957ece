package workflow

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/testenv"
	"github.com/kubeci/kubeci/internal/trigger"
)

const revisionPath = "status.artifact.revision"

// installGitRepositoryCRD installs the tests' stand-in for Flux's
// GitRepository CRD (test/testdata/flux).
func installGitRepositoryCRD(t *testing.T, env *testenv.Env) {
	t.Helper()
	path := filepath.Join("..", "..", "..", "test", "testdata", "flux", "gitrepository-crd.yaml")
	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: []string{path}, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err)
	}
}

// gitRepository is a GitRepository as a user creates it: spec only.
func gitRepository(ns, name string) *unstructured.Unstructured {
	r := &unstructured.Unstructured{}
	r.SetAPIVersion("source.toolkit.fluxcd.io/v1")
	r.SetKind("GitRepository")
	r.SetNamespace(ns)
	r.SetName(name)
	r.Object["spec"] = map[string]any{"url": "https://git.example.com/shop.git", "interval": "1m",
		"ref": map[string]any{"branch": "main"}}
	return r
}

// setArtifact writes the status source-controller writes after fetching a
// commit: the artifact (revision, digest, url) and a Ready condition whose
// transition time changes on each write, as status churn does.
func setArtifact(t *testing.T, env *testenv.Env, repo *unstructured.Unstructured, revision string) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(repo), repo); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	status := map[string]any{
		"observedGeneration": repo.GetGeneration(),
		"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Succeeded",
			"message": "stored artifact for revision '" + revision + "'", "lastTransitionTime": now}},
	}
	if revision != "" {
		status["artifact"] = map[string]any{"path": "gitrepository/ns/shop/x.tar.gz", "url": "http://source-controller/x.tar.gz",
			"revision": revision, "digest": "sha256:0123", "lastUpdateTime": now}
	}
	repo.Object["status"] = status
	if err := env.Client.Status().Update(ctx, repo); err != nil {
		t.Fatalf("updating the status of %s: %v", repo.GetName(), err)
	}
}

// CI on every commit: a trigger on a GitRepository's revision runs once per
// new revision, records it on the run, and ignores status churn, spec changes
// and restarts; a revision set while the operator was down runs once.
func TestFieldTriggerRunsOncePerRevision(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	installGitRepositoryCRD(t, env)
	grantWatch(t, env, ns, "source.toolkit.fluxcd.io", "gitrepositories")
	repo := gitRepository(ns, "shop")
	create(t, env, repo)
	setArtifact(t, env, repo, "main@sha1:aaaa") // built before the Workflow existed: no run

	wf := workflowWith(ns, "ci", kubeciv1.Trigger{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository",
		Name: "shop", OnAddOrUpdate: true, FieldPaths: []string{revisionPath}})
	create(t, env, wf)
	op := startOperator(t, env, ns)
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)

	setArtifact(t, env, repo, "main@sha1:bbbb")
	wps := waitWorkplans(t, env, ns, wf.Name, 1)
	checkRevisionRun(t, &wps[0], "main@sha1:bbbb")

	// Status churn with the same revision, then a spec-only change: the
	// events are seen and dropped as duplicates, and no run starts.
	dup := eventsSeen(trigger.EventDuplicate)
	setArtifact(t, env, repo, "main@sha1:bbbb")
	update(t, env, repo, func(r *unstructured.Unstructured) { r.Object["spec"].(map[string]any)["interval"] = "5m" })
	waitCount(t, "the status churn and the spec change to be dropped", func() float64 { return eventsSeen(trigger.EventDuplicate) }, dup+2)

	uid := string(repo.GetUID())
	before, _, err := recorded(t, env, wf, uid)
	if err != nil {
		t.Fatal(err)
	}
	setArtifact(t, env, repo, "main@sha1:cccc")
	wps = waitWorkplans(t, env, ns, wf.Name, 2)
	checkRevisionRun(t, &wps[1], "main@sha1:cccc")
	// The run is created before the record is written: stop only once the
	// record holds the new revision, so that the restart finds it unchanged.
	waitRecorded(t, env, wf, uid, before, true)

	// A restart with nothing new starts nothing.
	op.stopOperator()
	unchanged := decisions("unchanged")
	op = startOperator(t, env, ns)
	waitCount(t, "the restarted operator to decide", func() float64 { return decisions("unchanged") }, unchanged+1)
	waitWorkplans(t, env, ns, wf.Name, 2)

	// A revision published while the operator is down runs once after.
	op.stopOperator()
	setArtifact(t, env, repo, "main@sha1:dddd")
	startOperator(t, env, ns)
	wps = waitWorkplans(t, env, ns, wf.Name, 3)
	checkRevisionRun(t, &wps[2], "main@sha1:dddd")

	// The artifact disappearing and the same revision coming back is not a
	// new commit.
	unchanged = decisions("unchanged")
	setArtifact(t, env, repo, "")
	setArtifact(t, env, repo, "main@sha1:dddd")
	waitCount(t, "the returning revision to be decided", func() float64 { return decisions("unchanged") }, unchanged+1)
	setArtifact(t, env, repo, "main@sha1:eeee")
	wps = waitWorkplans(t, env, ns, wf.Name, 4)
	checkRevisionRun(t, &wps[3], "main@sha1:eeee")

	// Nobody can change what a run recorded.
	wp := wps[3].DeepCopy()
	wp.Spec.Trigger.Fields[revisionPath] = "main@sha1:evil"
	if err := env.Client.Update(ctx, wp); err == nil || !strings.Contains(err.Error(), "only spec.cancelled may be set") {
		t.Errorf("changing a run's recorded revision: want it refused, got %v", err)
	}
}

// checkRevisionRun checks that wp records revision as its watched field and
// the GitRepository as it was, without managed fields.
func checkRevisionRun(t *testing.T, wp *kubeciv1.Workplan, revision string) {
	t.Helper()
	tr := wp.Spec.Trigger
	if tr.Event != kubeciv1.EventUpdated || tr.Kind != "GitRepository" || tr.Name != "shop" || tr.Fields[revisionPath] != revision {
		t.Errorf("run %s: trigger %s %s %s fields %v, want Updated GitRepository shop at %s", wp.Name, tr.Event, tr.Kind, tr.Name, tr.Fields, revision)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(tr.Object), &obj); err != nil {
		t.Fatalf("run %s: the recorded object is not JSON: %v", wp.Name, err)
	}
	got, _, _ := unstructured.NestedString(obj, "status", "artifact", "revision")
	if _, managed, _ := unstructured.NestedSlice(obj, "metadata", "managedFields"); got != revision || managed {
		t.Errorf("run %s: recorded object at revision %q (managedFields kept: %v), want %q", wp.Name, got, managed, revision)
	}
}

// A run started by a Secret never carries its data: not in the Workplan, not
// in the events about it.
func TestSecretTriggerRecordsNoData(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	grantWatch(t, env, ns, "", "secrets")
	wf := workflowWith(ns, "secret-ci", kubeciv1.Trigger{APIVersion: "v1", Kind: "Secret", OnAddOrUpdate: true, OnDelete: true})
	create(t, env, wf)
	startOperator(t, env, ns)
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)

	const value = "hunter2-never-copied"
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds",
		Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"stringData":{"password":"` + value + `"}}`}},
		StringData: map[string]string{"password": value}}
	create(t, env, s)
	waitWorkplans(t, env, ns, wf.Name, 1)
	update(t, env, s, func(s *corev1.Secret) { s.Data["password"] = []byte(value + "-2") })
	waitWorkplans(t, env, ns, wf.Name, 2)
	if err := env.Client.Delete(ctx, s); err != nil {
		t.Fatal(err)
	}
	wps := waitWorkplans(t, env, ns, wf.Name, 3)
	var evs corev1.EventList
	if err := env.Client.List(ctx, &evs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, what := range []any{wps, evs.Items} {
		data, _ := json.Marshal(what)
		for _, leak := range []string{value, "aHVudGVyMi1uZXZlci1jb3BpZWQ"} { // the value and its base64
			if strings.Contains(string(data), leak) {
				t.Errorf("the Secret's value reached %T: %s", what, data)
			}
		}
	}
	for _, wp := range wps {
		if !strings.Contains(wp.Spec.Trigger.Object, `"name":"creds"`) {
			t.Errorf("run %s (%s) should still record the Secret's metadata: %s", wp.Name, wp.Spec.Trigger.Event, wp.Spec.Trigger.Object)
		}
	}
}

// A 1 MiB object does not break run creation: the run records a reduced
// object and says why.
func TestLargeTriggerObject(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	grantWatch(t, env, ns, "", "configmaps")
	wf := workflowWith(ns, "big", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", Name: "big", OnAddOrUpdate: true})
	create(t, env, wf)
	startOperator(t, env, ns)
	waitReady(t, env, wf, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	cm := configMap(ns, "big", map[string]string{"app": "shop"}, strings.Repeat("x", 1000*1000))
	create(t, env, cm)
	wps := waitWorkplans(t, env, ns, wf.Name, 1)
	tr := wps[0].Spec.Trigger
	if len(tr.Object) > 128<<10 || !strings.Contains(tr.ObjectReduced, "more than the 131072 a run records") ||
		!strings.Contains(tr.Object, `"labels":{"app":"shop"}`) {
		t.Errorf("a 1 MB ConfigMap: recorded %d bytes (%.200s), reduced %q", len(tr.Object), tr.Object, tr.ObjectReduced)
	}
}
