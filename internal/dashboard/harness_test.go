package dashboard

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/config/samples"
	"github.com/kubeci/kubeci/internal/controller/workflow/workflowtest"
	"github.com/kubeci/kubeci/internal/runlogs"
	"github.com/kubeci/kubeci/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// fixture is a namespace on envtest with the Workflow controller answering
// run and rerun requests, and a dashboard serving it. There is no kubelet:
// tests write runs' statuses as the Workplan controller would, and logs come
// from scripted streams.
type fixture struct {
	t    testing.TB
	env  *testenv.Env
	ns   string
	url  string
	logs *fakeLogs
}

func newFixture(t testing.TB, auth AuthMode) *fixture {
	t.Helper()
	f := newFixtureWithoutOperator(t, auth)
	workflowtest.Start(t, f.env, f.ns)
	return f
}

// newFixtureWithoutOperator serves the dashboard without the Workflow
// controller (for figures of the dashboard alone).
func newFixtureWithoutOperator(t testing.TB, auth AuthMode) *fixture {
	t.Helper()
	env := testenv.Get(t)
	f := &fixture{t: t, env: env, ns: env.Namespace(t), logs: newFakeLogs()}
	cfg := env.Config
	if auth == AuthToken {
		cfg = rest.AnonymousClientConfig(env.Config)
	}
	srv, err := New(Options{Config: cfg, Auth: auth, Namespace: f.ns,
		Logs: func(*viewer, string) runlogs.Streamer { return f.logs }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	f.url = hs.URL
	return f
}

// workflow creates the design doc's Workflow, without triggers, named name.
func (f *fixture) workflow(name string) *kubeciv1.Workflow {
	f.t.Helper()
	wf := samples.Workflow()
	wf.Name, wf.Namespace, wf.Spec.Triggers = name, f.ns, nil
	if err := f.env.Client.Create(context.Background(), wf); err != nil {
		f.t.Fatal(err)
	}
	return wf
}

// runs lists the runs of Workflow name.
func (f *fixture) runs(name string) []kubeciv1.Workplan {
	f.t.Helper()
	var list kubeciv1.WorkplanList
	if err := f.env.Client.List(context.Background(), &list, client.InNamespace(f.ns)); err != nil {
		f.t.Fatal(err)
	}
	return ownRuns(list.Items, name)
}

// waitRuns waits until Workflow name has n runs.
func (f *fixture) waitRuns(name string, n int) []kubeciv1.Workplan {
	f.t.Helper()
	var got []kubeciv1.Workplan
	testenv.Eventually(f.t, fmt.Sprintf("%d runs of %s", n, name), func() error {
		if got = f.runs(name); len(got) != n {
			return fmt.Errorf("%d runs", len(got))
		}
		return nil
	})
	return got
}

// setStatus changes a run's status as the Workplan controller would.
func (f *fixture) setStatus(name string, change func(*kubeciv1.Workplan)) {
	f.t.Helper()
	ctx := context.Background()
	wp := &kubeciv1.Workplan{}
	if err := f.env.Client.Get(ctx, client.ObjectKey{Namespace: f.ns, Name: name}, wp); err != nil {
		f.t.Fatal(err)
	}
	change(wp)
	if err := f.env.Client.Status().Update(ctx, wp); err != nil {
		f.t.Fatalf("status of %s: %v", name, err)
	}
}

// stepPhases sets the run's step states: the named ones as given, the
// others Waiting.
func stepPhases(wp *kubeciv1.Workplan, phase kubeciv1.WorkplanPhase, steps map[string]kubeciv1.StepPhase) {
	now := metav1.Now()
	wp.Status.Phase = phase
	wp.Status.StartTime = &now
	wp.Status.Steps = nil
	for _, name := range stepNames(wp) {
		st := kubeciv1.StepStatus{Name: name, Phase: kubeciv1.StepWaiting}
		if p, ok := steps[name]; ok {
			st.Phase = p
			st.StartTime = &now
			if p == kubeciv1.StepSucceeded {
				st.FinishTime, st.ExitCode = &now, ptr.To[int32](0)
			}
		}
		wp.Status.Steps = append(wp.Status.Steps, st)
	}
}

// viewOnlyToken returns a token of a ServiceAccount that may read Kube CI's
// objects in the namespace but change nothing.
func (f *fixture) viewOnlyToken() string {
	f.t.Helper()
	ctx := context.Background()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "viewer"}}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "kubeci-viewer"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"kube.ci"}, Resources: []string{"workflows", "workplans"}, Verbs: []string{"get", "list", "watch"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "kubeci-viewer"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: f.ns}}}
	for _, o := range []client.Object{sa, role, binding} {
		if err := f.env.Client.Create(ctx, o); err != nil {
			f.t.Fatal(err)
		}
	}
	kube, err := kubernetes.NewForConfig(f.env.Config)
	if err != nil {
		f.t.Fatal(err)
	}
	tr, err := kube.CoreV1().ServiceAccounts(f.ns).CreateToken(ctx, sa.Name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return tr.Status.Token
}

// get fetches path with the cookies given and returns the status and body.
func (f *fixture) get(path string, cookies ...*http.Cookie) (int, string) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.url+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// fakeLogs serves scripted container logs, keyed "pod/container": a test
// writes the lines of a followed log and closes it.
type fakeLogs struct {
	mu    sync.Mutex
	pipes map[string]*io.PipeWriter
	reads map[string]*io.PipeReader
}

func newFakeLogs() *fakeLogs {
	return &fakeLogs{pipes: map[string]*io.PipeWriter{}, reads: map[string]*io.PipeReader{}}
}

func (l *fakeLogs) pipe(key string) (*io.PipeReader, *io.PipeWriter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pipes[key] == nil {
		l.reads[key], l.pipes[key] = io.Pipe()
	}
	return l.reads[key], l.pipes[key]
}

func (l *fakeLogs) Open(_ context.Context, pod, container string, follow bool) (io.ReadCloser, error) {
	if !follow {
		return io.NopCloser(strings.NewReader("")), nil
	}
	r, _ := l.pipe(pod + "/" + container)
	return r, nil
}

// write writes lines to the log of container in pod.
func (l *fakeLogs) write(t testing.TB, pod, container string, lines ...string) {
	t.Helper()
	_, w := l.pipe(pod + "/" + container)
	go func() {
		for _, line := range lines {
			if _, err := io.WriteString(w, line+"\n"); err != nil {
				return
			}
		}
	}()
}

// close ends the log of container in pod.
func (l *fakeLogs) close(pod, container string) {
	_, w := l.pipe(pod + "/" + container)
	_ = w.Close()
}
