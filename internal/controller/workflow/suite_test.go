package workflow

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crconfig "sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/config/samples"
	"github.com/kubeci/kubeci/internal/testenv"
	"github.com/kubeci/kubeci/internal/trigger"
)

// The operators started by the tests log their errors to stderr.
func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	os.Exit(testenv.Main(m))
}

// operator is a running manager with the Workflow controller, watching one
// namespace's Workflows.
type operator struct {
	stop context.CancelFunc
	done chan error
}

// startOperator starts the Workflow controller for Workflows in ns; it is
// stopped when the test ends, or earlier with stopOperator.
func startOperator(t *testing.T, env *testenv.Env, ns string) *operator {
	t.Helper()
	return startOperatorWith(t, env, env.Config, ns)
}

// startOperatorWith starts the Workflow controller talking to the API server
// with cfg.
func startOperatorWith(t *testing.T, env *testenv.Env, cfg *rest.Config, ns string) *operator {
	t.Helper()
	return startOperatorWithOptions(t, env, cfg, ns, Options{})
}

// startOperatorWithOptions starts the Workflow controller with opts (4
// Workflows reconciled at once unless opts say otherwise).
func startOperatorWithOptions(t *testing.T, env *testenv.Env, cfg *rest.Config, ns string, opts Options) *operator {
	t.Helper()
	if opts.MaxConcurrentReconciles == 0 {
		opts.MaxConcurrentReconciles = 4
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}},
		Controller:             crconfig.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SetupWithManager(mgr, opts); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	op := &operator{stop: cancel, done: make(chan error, 1)}
	go func() { op.done <- mgr.Start(ctx) }()
	t.Cleanup(op.stopOperator)
	return op
}

// stopOperator stops the manager and waits until it has stopped.
func (op *operator) stopOperator() {
	if op.stop == nil {
		return
	}
	op.stop()
	<-op.done
	op.stop = nil
}

// loadSample reads the design doc's Workflow into namespace ns.
func loadSample(t *testing.T, env *testenv.Env, ns string) *kubeciv1.Workflow {
	t.Helper()
	wf := samples.Workflow()
	wf.Namespace = ns
	wf.Spec.Triggers[0].Namespace = ""
	return wf
}

// grantWatch lets ns's default ServiceAccount list and watch resources of
// apiGroup in ns.
func grantWatch(t *testing.T, env *testenv.Env, ns, apiGroup string, resources ...string) {
	t.Helper()
	grantWatchFor(t, env, ns, ns, apiGroup, resources...)
}

// grantWatchFor lets the default ServiceAccount of saNamespace list and watch
// resources of apiGroup in ns.
func grantWatchFor(t *testing.T, env *testenv.Env, ns, saNamespace, apiGroup string, resources ...string) {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "watch-" + resources[0] + "-" + saNamespace, Namespace: ns},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{apiGroup}, Resources: resources, Verbs: []string{"get", "list", "watch"}}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default", Namespace: saNamespace}},
	}
	for _, obj := range []client.Object{role, binding} {
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
}

func create(t *testing.T, env *testenv.Env, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

func configMap(ns, name string, labels map[string]string, data string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Data:       map[string]string{"data": data},
	}
}

// update reads obj, applies change and writes it back.
func update[T client.Object](t *testing.T, env *testenv.Env, obj T, change func(T)) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		t.Fatal(err)
	}
	change(obj)
	if err := env.Client.Update(ctx, obj); err != nil {
		t.Fatalf("updating %s: %v", obj.GetName(), err)
	}
}

// workplans lists the Workplans of workflow wf in ns in the order they were
// created. Creation timestamps have one-second resolution, so the order comes
// from resourceVersion, which these tests may read as etcd's revision: nothing
// else writes these Workplans.
func workplans(t *testing.T, env *testenv.Env, ns, wf string) []kubeciv1.Workplan {
	t.Helper()
	var list kubeciv1.WorkplanList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns),
		client.MatchingLabels{kubeciv1.LabelWorkflow: wf}); err != nil {
		t.Fatal(err)
	}
	rv := func(wp *kubeciv1.Workplan) int {
		n, _ := strconv.Atoi(wp.ResourceVersion)
		return n
	}
	sort.Slice(list.Items, func(i, j int) bool { return rv(&list.Items[i]) < rv(&list.Items[j]) })
	return list.Items
}

// nextSecond waits until the wall clock enters a new second, so that objects
// created before and after have different creation timestamps.
func nextSecond() {
	now := time.Now()
	time.Sleep(now.Truncate(time.Second).Add(time.Second).Sub(now))
}

// waitWorkplans waits until workflow wf has exactly n Workplans and returns
// them. It fails at once when there are more.
func waitWorkplans(t *testing.T, env *testenv.Env, ns, wf string, n int) []kubeciv1.Workplan {
	t.Helper()
	var got []kubeciv1.Workplan
	testenv.Eventually(t, fmt.Sprintf("%d workplans of %s", n, wf), func() error {
		got = workplans(t, env, ns, wf)
		if len(got) > n {
			t.Fatalf("want %d workplans of %s, got %d: %v", n, wf, len(got), describe(got))
		}
		if len(got) < n {
			return fmt.Errorf("have %d: %v", len(got), describe(got))
		}
		return nil
	})
	return got
}

func describe(wps []kubeciv1.Workplan) []string {
	var out []string
	for _, wp := range wps {
		out = append(out, fmt.Sprintf("%s(%s %s)", wp.Name, wp.Spec.Trigger.Event, wp.Spec.Trigger.Name))
	}
	return out
}

// waitReady waits for wf's Ready condition to have status and reason, and
// returns the Workflow.
func waitReady(t *testing.T, env *testenv.Env, wf *kubeciv1.Workflow, status metav1.ConditionStatus, reason string) *kubeciv1.Workflow {
	t.Helper()
	got := &kubeciv1.Workflow{}
	testenv.Eventually(t, fmt.Sprintf("workflow %s Ready=%s/%s", wf.Name, status, reason), func() error {
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(wf), got); err != nil {
			return err
		}
		for _, c := range got.Status.Conditions {
			if c.Type == kubeciv1.ConditionReady && c.Status == status && c.Reason == reason && c.ObservedGeneration == got.Generation {
				return nil
			}
		}
		return fmt.Errorf("conditions: %+v", got.Status.Conditions)
	})
	return got
}

// eventsSeen returns how many informer events had result so far.
func eventsSeen(result trigger.EventClass) float64 {
	return testutil.ToFloat64(triggerEvents.WithLabelValues(string(result)))
}

// decisions returns how many objects had result in Workflow decisions so far.
func decisions(result string) float64 {
	return testutil.ToFloat64(triggerDecisions.WithLabelValues(result))
}

// waitCount waits until get() reaches at least want.
func waitCount(t *testing.T, what string, get func() float64, want float64) {
	t.Helper()
	testenv.Eventually(t, what, func() error {
		if got := get(); got < want {
			return fmt.Errorf("at %v, want %v", got, want)
		}
		return nil
	})
}
