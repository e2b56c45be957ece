package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/manifest"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/testenv"
)

// The cluster commands are tested against a real API server (envtest), one
// per test binary. Nothing runs pods there: tests write the Workplan status
// the operator would.
func TestMain(m *testing.M) {
	if os.Getenv(asKubeciEnv) != "" {
		os.Exit(kubeciMain()) // see run_process_test.go
	}
	ctrllog.SetLogger(logr.Discard()) // the operator some tests run logs nothing
	os.Exit(testenv.Main(m))
}

// waitTimeout bounds every wait of these tests; a slow machine only makes
// them slower.
const waitTimeout = testenv.WaitTimeout

// sampleWorkflow is the design doc's example Workflow.
const sampleWorkflow = "../../config/samples/kube.ci_v1alpha1_workflow.yaml"

// kube runs kubeci against the test API server, in one namespace of its own,
// through a kubeconfig file as a user would.
type kube struct {
	t          *testing.T
	env        *testenv.Env
	ns         string
	kubeconfig string
	// clock is the commands' clock: the real one until the test fixes it.
	clock clock.Clock
}

func newKube(t *testing.T) *kube {
	t.Helper()
	env := testenv.Get(t)
	k := &kube{t: t, env: env, ns: env.Namespace(t), clock: clock.RealClock{}}
	k.kubeconfig = writeKubeconfig(t, env)
	return k
}

// writeKubeconfig writes a kubeconfig reaching the test API server as an
// administrator.
func writeKubeconfig(t *testing.T, env *testenv.Env) string {
	t.Helper()
	cfg := env.Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin", Namespace: "default"}
	kc.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// args adds the kubeconfig and the namespace to a command line.
func (k *kube) args(args []string) []string {
	return append([]string{"--kubeconfig", k.kubeconfig, "-n", k.ns}, args...)
}

// run runs kubeci with args and returns its outputs and exit code.
func (k *kube) run(args ...string) (stdout, stderr string, code int) {
	k.t.Helper()
	r := k.start(args...)
	code = r.wait()
	return r.out.String(), r.errOut.String(), code
}

// running is a kubeci command running in the background.
type running struct {
	t           *testing.T
	out, errOut *syncBuffer
	cancel      context.CancelFunc
	done        chan int
	code        int

	mu      sync.Mutex
	waiting []client.Object // what the command's watches went on waiting after
}

// start runs kubeci with args in the background.
func (k *kube) start(args ...string) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: k.t, out: &syncBuffer{}, errOut: &syncBuffer{}, cancel: cancel, done: make(chan int, 1)}
	cmd := newRootCommand("kubeci", &Options{
		IOStreams:   genericiooptions.IOStreams{In: strings.NewReader(""), Out: r.out, ErrOut: r.errOut},
		ConfigFlags: genericclioptions.NewConfigFlags(true),
		Clock:       k.clock,
		waiting: func(obj client.Object) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.waiting = append(r.waiting, obj.DeepCopyObject().(client.Object))
		},
	})
	cmd.SetArgs(k.args(args))
	go func() {
		err := cmd.ExecuteContext(ctx)
		var exit ExitError
		switch {
		case errors.As(err, &exit):
			r.done <- exit.Code
		case err != nil:
			r.errOut.WriteString("Error: " + err.Error() + "\n")
			r.done <- 1
		default:
			r.done <- 0
		}
	}()
	k.t.Cleanup(cancel)
	return r
}

// wait waits for the command to end and returns its exit code.
func (r *running) wait() int {
	r.t.Helper()
	select {
	case r.code = <-r.done:
		return r.code
	case <-time.After(waitTimeout):
		r.cancel()
		r.t.Fatalf("command did not end; output:\n%s\nerrors:\n%s", r.out, r.errOut)
		return 0
	}
}

// stop interrupts the command (as Ctrl-C would a watch) and waits for it.
func (r *running) stop() int {
	r.cancel()
	return r.wait()
}

// waitsAfter waits until one of the command's watches has gone on waiting
// after an object for which seen holds: the command has seen that state and
// not ended. The test fails at once if the command ends first.
func (r *running) waitsAfter(what string, seen func(client.Object) bool) {
	r.t.Helper()
	testenv.Eventually(r.t, "the command waiting after "+what, func() error {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, obj := range r.waiting {
			if seen(obj) {
				return nil
			}
		}
		select {
		case code := <-r.done:
			r.t.Fatalf("command ended (exit code %d) instead of waiting after %s:\n%s%s", code, what, r.out, r.errOut)
		default:
		}
		return fmt.Errorf("it went on waiting after %d objects", len(r.waiting))
	})
}

// waitLines waits until the standard output holds n lines; the test fails
// at once if the command ends first.
func (r *running) waitLines(n int) {
	r.t.Helper()
	testenv.Eventually(r.t, "output lines", func() error {
		if got := strings.Count(r.out.String(), "\n"); got >= n {
			return nil
		}
		select {
		case code := <-r.done:
			r.t.Fatalf("command ended (exit code %d) before printing %d lines:\n%s%s", code, n, r.out, r.errOut)
		default:
		}
		return errors.New("have " + r.out.String())
	})
}

// syncBuffer is a bytes.Buffer written by a command and read by its test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) WriteString(s string) {
	_, _ = b.Write([]byte(s))
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// setClock fixes the time ages and durations are measured against, for the
// commands the test runs from now on.
func (k *kube) setClock(now time.Time) {
	k.clock = clocktesting.NewFakeClock(now)
}

// clockAfter fixes the clock one hour and a half minute after the newest
// creation time of objs, and returns that time: every age shows "60m", also
// of objects the test creates within the next half minute.
func (k *kube) clockAfter(objs ...client.Object) time.Time {
	var newest time.Time
	for _, o := range objs {
		if c := o.GetCreationTimestamp().Time; c.After(newest) {
			newest = c
		}
	}
	now := newest.Add(time.Hour + 30*time.Second)
	k.setClock(now)
	return now
}

var (
	rfc1123Time = regexp.MustCompile(`[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d [-+]\d{4}`)
	rfc3339Time = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	objectMeta  = regexp.MustCompile(`("?(uid|resourceVersion)"?: )("?)[0-9a-f-]+("?)`)
)

// mask makes output independent of the run: the test namespace's generated
// name, object UIDs, resource versions and absolute times. Namespace names
// keep their length, so table columns stay aligned.
func (k *kube) mask(s string) string {
	s = strings.ReplaceAll(s, k.ns, "test-xxxxx")
	s = rfc1123Time.ReplaceAllString(s, "<time>")
	s = rfc3339Time.ReplaceAllString(s, "<time>")
	return objectMeta.ReplaceAllString(s, "${1}${3}<masked>${4}")
}

// create creates obj in the test namespace.
func (k *kube) create(obj client.Object) {
	k.t.Helper()
	obj.SetNamespace(k.ns)
	if err := k.env.Client.Create(context.Background(), obj); err != nil {
		k.t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

// sample returns the design doc's Workflow named name, in the test namespace,
// without triggers unless keepTriggers.
func (k *kube) sample(name string, keepTriggers bool) *kubeciv1.Workflow {
	k.t.Helper()
	docs, err := manifest.LoadFile(sampleWorkflow, nil)
	if err != nil || len(docs) != 1 || docs[0].Err != nil {
		k.t.Fatalf("loading %s: %v %v", sampleWorkflow, err, docs)
	}
	wf := docs[0].Workflow
	wf.Name, wf.Namespace = name, k.ns
	if keepTriggers {
		wf.Spec.Triggers[0].Namespace = ""
	} else {
		wf.Spec.Triggers = nil
	}
	return wf
}

// workplan creates a run of wf named name, as the operator would, and sets
// its status with setStatus (when not nil).
func (k *kube) workplan(wf *kubeciv1.Workflow, name string, ev kubeciv1.TriggerEvent, setStatus func(*kubeciv1.Workplan)) *kubeciv1.Workplan {
	k.t.Helper()
	wp, err := plan.NewWorkplan(wf, ev, name)
	if err != nil {
		k.t.Fatal(err)
	}
	k.create(wp)
	if setStatus != nil {
		k.setStatus(wp, setStatus)
	}
	return wp
}

// setStatus reads wp, changes its status and writes it, as the operator does.
func (k *kube) setStatus(wp *kubeciv1.Workplan, change func(*kubeciv1.Workplan)) {
	k.t.Helper()
	ctx := context.Background()
	if err := k.env.Client.Get(ctx, client.ObjectKeyFromObject(wp), wp); err != nil {
		k.t.Fatal(err)
	}
	change(wp)
	if err := k.env.Client.Status().Update(ctx, wp); err != nil {
		k.t.Fatalf("writing the status of %s: %v", wp.Name, err)
	}
}

// at returns a *metav1.Time d after t.
func at(t time.Time, d time.Duration) *metav1.Time {
	mt := metav1.NewTime(t.Add(d).Truncate(time.Second))
	return &mt
}

func exitCode(c int32) *int32 { return &c }
