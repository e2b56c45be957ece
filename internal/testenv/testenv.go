// Package testenv runs a real kube-apiserver and etcd (controller-runtime's
// envtest) for integration tests, with Kube CI's CRDs installed. Each test
// binary starts one control plane in TestMain and stops it when its tests end:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		env := testenv.Get(t)
//		ns := env.Namespace(t)
//		...
//	}
//
// The binaries come from KUBEBUILDER_ASSETS, else from bin/k8s/<version>/ as
// built by `make test-assets`. Without them a test fails when CI is set and
// skips otherwise, saying how to build them.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Env is a running control plane.
type Env struct {
	// Config reaches the API server as an administrator.
	Config *rest.Config
	// Client is an uncached client with Kube CI's and the built-in kinds.
	Client client.Client
	// Scheme holds Kube CI's and the built-in kinds.
	Scheme *runtime.Scheme
	// Root is the repository's root folder.
	Root string

	env *envtest.Environment
}

var (
	shared   *Env
	startErr error
)

// Main starts the control plane, runs the tests and stops it, returning the exit
// code for os.Exit. The control plane is stopped even when a test panics.
func Main(m *testing.M) (code int) {
	shared, startErr = Start()
	if shared != nil {
		defer func() {
			if err := shared.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "testenv: stopping the control plane:", err)
				code = 1
			}
		}()
	}
	return m.Run()
}

// Get returns the control plane started by Main. When it could not start, the
// test fails if CI is set, and is skipped otherwise, with the reason.
func Get(t testing.TB) *Env {
	t.Helper()
	if startErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("integration test needs a kube-apiserver and etcd: %v", startErr)
		}
		t.Skipf("skipping integration test: %v", startErr)
	}
	if shared == nil {
		t.Fatal("testenv.Get called without testenv.Main in TestMain")
	}
	return shared
}

// Start starts kube-apiserver and etcd with Kube CI's CRDs installed.
func Start() (*Env, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	assets, err := assetsDir(root)
	if err != nil {
		return nil, err
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	utilruntime.Must(kubeciv1.AddToScheme(scheme))

	te := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                scheme,
	}
	cfg, err := te.Start()
	if err != nil {
		_ = te.Stop()
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", assets, err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		_ = te.Stop()
		return nil, err
	}
	return &Env{Config: cfg, Client: c, Scheme: scheme, Root: root, env: te}, nil
}

// Stop stops the control plane and removes its temporary files.
func (e *Env) Stop() error {
	return e.env.Stop()
}

// Namespace creates a namespace with a unique name for the test. It is deleted
// when the test ends.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	if err := e.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	t.Cleanup(func() {
		// Without kube-controller-manager nothing empties a deleted namespace:
		// remove Kube CI's objects so later tests' operators do not see them.
		ctx := context.Background()
		_ = e.Client.DeleteAllOf(ctx, &kubeciv1.Workflow{}, client.InNamespace(ns.Name))
		_ = e.Client.DeleteAllOf(ctx, &kubeciv1.Workplan{}, client.InNamespace(ns.Name))
		_ = e.Client.Delete(ctx, ns)
	})
	return ns.Name
}

// assetsDir finds the folder holding kube-apiserver and etcd.
func assetsDir(root string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, checkAssets(dir)
	}
	version, err := k8sVersion(root)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "bin", "k8s", version)
	if err := checkAssets(dir); err != nil {
		return "", err
	}
	return dir, nil
}

func checkAssets(dir string) error {
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, bin)); err != nil {
			return fmt.Errorf("%s not found in %s: run `make test-assets` (or hack/build-k8s.sh) to build it, or set KUBEBUILDER_ASSETS", bin, dir)
		}
	}
	return nil
}

// k8sVersion is the Kubernetes release matching the k8s.io/api in the
// project's go.mod (k8s.io/api v0.37.2 is Kubernetes v1.37.2).
func k8sVersion(root string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "k8s.io/api" {
			return "v1" + strings.TrimPrefix(f[1], "v0"), nil
		}
	}
	return "", errors.New("go.mod does not require k8s.io/api")
}

// repoRoot walks up from the working directory (a test's package folder) to
// the folder holding the project's go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(data), "module github.com/kubeci/kubeci\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the repository root (go.mod of github.com/kubeci/kubeci) above the working directory")
		}
		dir = parent
	}
}
