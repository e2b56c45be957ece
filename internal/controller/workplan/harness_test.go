package workplan_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/config/samples"
	"github.com/kubeci/kubeci/internal/controller/workplan"
	"github.com/kubeci/kubeci/internal/names"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/testenv"
)

// The integration tests run the controller in a manager against a real API
// server, with the RBAC role generated from its markers, and play the parts
// envtest lacks: the scheduler (binding pods), the kubelet (writing pod
// status, finishing pods being deleted) and the garbage collector (none).

// operatorUser is who the controller runs as: bound to config/rbac/role.yaml.
const operatorUser = "system:serviceaccount:kubeci-system:kubeci-operator"

const (
	pollInterval = 20 * time.Millisecond
	waitTimeout  = 30 * time.Second
)

var rbacOnce sync.Once

// grantOperatorRole installs the generated ClusterRole and binds it to
// operatorUser, once per test binary.
func grantOperatorRole(t *testing.T, env *testenv.Env) {
	rbacOnce.Do(func() {
		data, err := os.ReadFile(filepath.Join(env.Root, "config", "rbac", "role.yaml"))
		if err != nil {
			t.Fatalf("reading the generated role (make manifests): %v", err)
		}
		var role rbacv1.ClusterRole
		if err := yaml.UnmarshalStrict(data, &role); err != nil {
			t.Fatal(err)
		}
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: role.Name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: operatorUser}},
		}
		for _, obj := range []client.Object{&role, binding} {
			if err := env.Client.Create(context.Background(), obj); err != nil {
				t.Fatalf("installing the operator's RBAC: %v", err)
			}
		}
	})
}

// harness is one test's namespace, node, clock and running controller.
type harness struct {
	t     *testing.T
	env   *testenv.Env
	c     client.Client // the test's own uncached client, as an administrator
	ns    string
	node  string
	clock *clocktesting.FakeClock
	opts  workplan.Options
	stop  func()
}

// newHarness starts the controller in a fresh namespace with one Ready node.
func newHarness(t *testing.T, opts workplan.Options) *harness {
	t.Helper()
	if opts.CleanupImage == "" {
		opts.CleanupImage = "kubeci.local/kubeci:test"
	}
	env := testenv.Get(t)
	grantOperatorRole(t, env)
	h := &harness{t: t, env: env, c: env.Client, ns: env.Namespace(t), clock: clocktesting.NewFakeClock(time.Now()), opts: opts}
	h.node = "node-" + h.ns
	h.createNode(h.node)
	h.start()
	return h
}

// start runs a manager with the controller, configured as the operator's:
// pods cached only when labelled kube.ci/workplan; limited to the test's
// namespace so that parallel tests do not see each other's Workplans.
func (h *harness) start() {
	h.t.Helper()
	cfg := rest.CopyConfig(h.env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: operatorUser}
	hasWorkplan, err := labels.NewRequirement(kubeciv1.LabelWorkplan, selection.Exists, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 h.env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache: cache.Options{
			DefaultNamespaces: map[string]cache.Config{h.ns: {}},
			ByObject:          map[client.Object]cache.ByObject{&corev1.Pod{}: {Label: labels.NewSelector().Add(*hasWorkplan)}},
		},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	opts := h.opts
	opts.Clock = h.clock
	if _, err := workplan.SetupWithManager(mgr, opts); err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	h.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				h.t.Errorf("manager: %v", err)
			}
		})
	}
	h.t.Cleanup(h.stop)
}

// restart stops the manager and starts a new one, as an operator restart.
func (h *harness) restart() {
	h.t.Helper()
	h.stop()
	h.start()
}

func (h *harness) ctx() context.Context { return context.Background() }

// createNode creates a Ready node.
func (h *harness) createNode(name string) {
	h.t.Helper()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := h.c.Create(h.ctx(), node); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = h.c.Delete(context.Background(), node) })
	node.Status.Conditions = []corev1.NodeCondition{{
		Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastTransitionTime: metav1.Now(), LastHeartbeatTime: metav1.Now(),
	}}
	if err := h.c.Status().Update(h.ctx(), node); err != nil {
		h.t.Fatal(err)
	}
}

// createWorkflow creates the design doc's Workflow in the test's namespace,
// changed by mods.
func (h *harness) createWorkflow(mods ...func(*kubeciv1.Workflow)) *kubeciv1.Workflow {
	h.t.Helper()
	wf := samples.Workflow()
	wf.Namespace = h.ns
	wf.Spec.Triggers = nil
	for _, m := range mods {
		m(wf)
	}
	if err := h.c.Create(h.ctx(), wf); err != nil {
		h.t.Fatal(err)
	}
	return wf
}

// createRun creates a Workplan of wf, as the Workflow controller does.
func (h *harness) createRun(wf *kubeciv1.Workflow, name string, mods ...func(*kubeciv1.Workplan)) *kubeciv1.Workplan {
	h.t.Helper()
	wp, err := plan.NewWorkplan(wf, kubeciv1.TriggerEvent{
		Event: kubeciv1.EventUpdated, APIVersion: "v1", Kind: "ConfigMap", Namespace: h.ns, Name: "my-config",
	}, name)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, m := range mods {
		m(wp)
	}
	if err := h.c.Create(h.ctx(), wp); err != nil {
		h.t.Fatal(err)
	}
	return wp
}

// waitFor polls until cond holds, failing with what it last saw.
func (h *harness) waitFor(what string, cond func() (bool, string)) {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, seen := cond()
		if ok {
			return
		}
		last = seen
		time.Sleep(pollInterval)
	}
	h.t.Fatalf("timed out waiting for %s; last seen:\n%s", what, last)
}

// waitRun waits until the Workplan satisfies cond, and returns it.
func (h *harness) waitRun(name, what string, cond func(*kubeciv1.Workplan) bool) *kubeciv1.Workplan {
	h.t.Helper()
	wp := &kubeciv1.Workplan{}
	h.waitFor(fmt.Sprintf("Workplan %s: %s", name, what), func() (bool, string) {
		if err := h.c.Get(h.ctx(), client.ObjectKey{Namespace: h.ns, Name: name}, wp); err != nil {
			return false, err.Error()
		}
		data, _ := yaml.Marshal(wp.Status)
		return cond(wp), string(data)
	})
	return wp
}

// waitPhase waits for the Workplan's phase.
func (h *harness) waitPhase(name string, phase kubeciv1.WorkplanPhase) *kubeciv1.Workplan {
	h.t.Helper()
	return h.waitRun(name, "phase "+string(phase), func(wp *kubeciv1.Workplan) bool { return wp.Status.Phase == phase })
}

// waitCleaned waits until the Workplan's WorkspaceCleaned condition has reason.
func (h *harness) waitCleaned(name, reason string) *kubeciv1.Workplan {
	h.t.Helper()
	return h.waitRun(name, "WorkspaceCleaned "+reason, func(wp *kubeciv1.Workplan) bool {
		c := findCondition(wp, kubeciv1.ConditionWorkspaceCleaned)
		return c != nil && c.Reason == reason && len(wp.Finalizers) == 0
	})
}

// waitGone waits until the Workplan no longer exists.
func (h *harness) waitGone(name string) {
	h.t.Helper()
	h.waitFor("Workplan "+name+" to be gone", func() (bool, string) {
		err := h.c.Get(h.ctx(), client.ObjectKey{Namespace: h.ns, Name: name}, &kubeciv1.Workplan{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

// waitPod waits until the pod exists and returns it.
func (h *harness) waitPod(name string) *corev1.Pod {
	h.t.Helper()
	pod := &corev1.Pod{}
	h.waitFor("pod "+name, func() (bool, string) {
		err := h.c.Get(h.ctx(), client.ObjectKey{Namespace: h.ns, Name: name}, pod)
		return err == nil, fmt.Sprint(err)
	})
	return pod
}

// waitPodGone waits until the pod no longer exists.
func (h *harness) waitPodGone(name string) {
	h.t.Helper()
	h.waitFor("pod "+name+" to be gone", func() (bool, string) {
		err := h.c.Get(h.ctx(), client.ObjectKey{Namespace: h.ns, Name: name}, &corev1.Pod{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

// pods lists the test namespace's pod names.
func (h *harness) pods() []string {
	h.t.Helper()
	var list corev1.PodList
	if err := h.c.List(h.ctx(), &list, client.InNamespace(h.ns)); err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, p := range list.Items {
		out = append(out, p.Name)
	}
	return out
}

// bind plays the scheduler: it binds the pod to node.
func (h *harness) bind(pod, node string) {
	h.t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: pod}}
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: pod},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	if err := h.c.SubResource("binding").Create(h.ctx(), p, binding); err != nil {
		h.t.Fatalf("binding pod %s to node %s: %v", pod, node, err)
	}
}

// setPodStatus plays the kubelet: it changes the pod's status.
func (h *harness) setPodStatus(name string, change func(*corev1.Pod)) {
	h.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod := &corev1.Pod{}
		if err := h.c.Get(h.ctx(), client.ObjectKey{Namespace: h.ns, Name: name}, pod); err != nil {
			return err
		}
		change(pod)
		return h.c.Status().Update(h.ctx(), pod)
	})
	if err != nil {
		h.t.Fatalf("updating the status of pod %s: %v", name, err)
	}
}

// runPod binds the pod to the harness's node (unless bound) and reports it
// Running: its first container runs, the others wait.
func (h *harness) runPod(name string) *corev1.Pod {
	h.t.Helper()
	pod := h.waitPod(name)
	if pod.Spec.NodeName == "" {
		h.bind(name, h.node)
	}
	h.setPodStatus(name, func(p *corev1.Pod) {
		now := metav1.Now()
		p.Status.Phase = corev1.PodRunning
		p.Status.StartTime = &now
		first := true
		setContainers(p, func(c corev1.Container) corev1.ContainerState {
			if first {
				first = false
				return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
			}
			return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}
		})
	})
	return h.waitPod(name)
}

// cleanerName is the container name of the workspace cleaner, the native
// sidecar of a run's last task pod.
const cleanerName = "kubeci-cleanup"

// endPod reports every container of the pod terminated, with the exit code
// given for its step (0 otherwise). Init containers after a failed one never
// started, nor did the containers. The pod is Succeeded or Failed. A
// workspace cleaner is stopped once the steps have exited, as a kubelet stops
// a sidecar, and exits with codes[cleanerName] (0 by default); its exit code
// does not make the pod fail, as a sidecar's does not.
func (h *harness) endPod(name string, codes map[string]int32) {
	h.t.Helper()
	h.setPodStatus(name, func(p *corev1.Pod) {
		now := metav1.Now()
		if p.Status.StartTime == nil {
			p.Status.StartTime = &now
		}
		phase, failed := corev1.PodSucceeded, false
		setContainers(p, func(c corev1.Container) corev1.ContainerState {
			if failed {
				return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}
			}
			code := codes[c.Name]
			reason := "Completed"
			if c.Name == cleanerName && c.RestartPolicy != nil {
				if code != 0 {
					reason = "Error"
				}
				return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, StartedAt: now, FinishedAt: now}}
			}
			if code != 0 {
				phase, reason = corev1.PodFailed, "Error"
				failed = isInit(p, c.Name)
			}
			return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, StartedAt: now, FinishedAt: now}}
		})
		p.Status.Phase = phase
	})
}

// setContainer sets one container's state, leaving the pod's phase.
func (h *harness) setContainer(name, container string, state corev1.ContainerState) {
	h.t.Helper()
	h.setPodStatus(name, func(p *corev1.Pod) {
		for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
			for i := range list {
				if list[i].Name == container {
					list[i].State = state
				}
			}
		}
	})
}

// finishDeletedPod plays the kubelet stopping a pod being deleted: its
// containers are killed, then the pod object goes.
func (h *harness) finishDeletedPod(name string) {
	h.t.Helper()
	h.waitFor("pod "+name+" to be deleted", func() (bool, string) {
		pod := &corev1.Pod{}
		err := h.c.Get(h.ctx(), client.ObjectKey{Namespace: h.ns, Name: name}, pod)
		return apierrors.IsNotFound(err) || err == nil && pod.DeletionTimestamp != nil, fmt.Sprint(err)
	})
	h.forceDelete(name)
}

// finishStoppedPod plays the kubelet stopping a pod whose activeDeadlineSeconds
// the controller cut short: its running containers are killed, the pod is
// Failed with reason DeadlineExceeded, and it stays (with its logs).
func (h *harness) finishStoppedPod(name string) {
	h.t.Helper()
	h.waitFor("pod "+name+" to be stopped", func() (bool, string) {
		pod := &corev1.Pod{}
		err := h.c.Get(h.ctx(), client.ObjectKey{Namespace: h.ns, Name: name}, pod)
		d := pod.Spec.ActiveDeadlineSeconds
		return err == nil && d != nil && *d <= 1, fmt.Sprintf("err %v, activeDeadlineSeconds %v", err, d)
	})
	h.setPodStatus(name, func(p *corev1.Pod) {
		now := metav1.Now()
		p.Status.Phase, p.Status.Reason = corev1.PodFailed, "DeadlineExceeded"
		// setContainers replaces the statuses: read them before.
		before := append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...)
		setContainers(p, func(c corev1.Container) corev1.ContainerState {
			for _, cs := range before {
				if cs.Name == c.Name && cs.State.Running != nil && c.Name == cleanerName && c.RestartPolicy != nil {
					// The workspace cleaner removes the workspace when stopped.
					return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed",
						StartedAt: cs.State.Running.StartedAt, FinishedAt: now}}
				}
				if cs.Name == c.Name && cs.State.Running != nil {
					return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "Error",
						StartedAt: cs.State.Running.StartedAt, FinishedAt: now}}
				}
				if cs.Name == c.Name {
					return cs.State
				}
			}
			return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}
		})
	})
}

// forceDelete deletes the pod at once, as the kubelet does once its
// containers stopped.
func (h *harness) forceDelete(name string) {
	h.t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: name}}
	if err := h.c.Delete(h.ctx(), pod, client.GracePeriodSeconds(0)); client.IgnoreNotFound(err) != nil {
		h.t.Fatal(err)
	}
	h.waitPodGone(name)
}

// runCleanup plays the cleanup pod of a run: it checks the pod is pinned to
// the run's node, runs it there, and ends it with exit code.
func (h *harness) runCleanup(wp string, attempt int, code int32) *corev1.Pod {
	h.t.Helper()
	name := names.CleanupPod(wp)
	if attempt > 1 {
		name = fmt.Sprintf("%s-%d", name, attempt)
	}
	pod := h.waitPod(name)
	if got := pinnedNode(pod); got != h.node {
		h.t.Fatalf("cleanup pod %s is pinned to node %q, want the run's node %q", name, got, h.node)
	}
	h.runPod(name)
	h.endPod(name, map[string]int32{"cleanup": code})
	return pod
}

// poke touches the Workplan so that it is reconciled now, as after a
// RequeueAfter that the fake clock made due.
func (h *harness) poke(name string) {
	h.t.Helper()
	wp := &kubeciv1.Workplan{ObjectMeta: metav1.ObjectMeta{Namespace: h.ns, Name: name}}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"test/poke":%q}}}`, time.Now().Format(time.RFC3339Nano))
	if err := h.c.Patch(h.ctx(), wp, client.RawPatch("application/merge-patch+json", []byte(patch))); err != nil {
		h.t.Fatal(err)
	}
}

// events lists the reasons and notes of the Events recorded on a Workplan.
func (h *harness) events(name string) []string {
	h.t.Helper()
	var list eventsv1.EventList
	if err := h.c.List(h.ctx(), &list, client.InNamespace(h.ns)); err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Kind == "Workplan" && e.Regarding.Name == name {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out
}

// waitEvent waits for an Event with reason whose note contains note.
func (h *harness) waitEvent(wp, reason, note string) {
	h.t.Helper()
	h.waitFor(fmt.Sprintf("event %s %q on Workplan %s", reason, note, wp), func() (bool, string) {
		events := h.events(wp)
		for _, e := range events {
			if strings.HasPrefix(e, reason+": ") && strings.Contains(e, note) {
				return true, ""
			}
		}
		return false, strings.Join(events, "\n")
	})
}

func setContainers(p *corev1.Pod, state func(corev1.Container) corev1.ContainerState) {
	status := func(c corev1.Container) corev1.ContainerStatus {
		return corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "", State: state(c)}
	}
	p.Status.InitContainerStatuses, p.Status.ContainerStatuses = nil, nil
	for _, c := range p.Spec.InitContainers {
		p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, status(c))
	}
	for _, c := range p.Spec.Containers {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, status(c))
	}
}

func isInit(p *corev1.Pod, name string) bool {
	for _, c := range p.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// pinnedNode is the node a pod's required node affinity pins it to.
func pinnedNode(pod *corev1.Pod) string {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range term.MatchFields {
			if f.Key == "metadata.name" && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
				return f.Values[0]
			}
		}
	}
	return ""
}

func findCondition(wp *kubeciv1.Workplan, typ string) *metav1.Condition {
	for i := range wp.Status.Conditions {
		if wp.Status.Conditions[i].Type == typ {
			return &wp.Status.Conditions[i]
		}
	}
	return nil
}

func containerNames(cs []corev1.Container) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func keyOf(ns, name string) client.ObjectKey { return client.ObjectKey{Namespace: ns, Name: name} }

func objectMeta(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name}
}
