package cluster

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// shared is the cluster Main brought up for the test binary.
var shared *Cluster

// Main runs a test binary's tests on the cluster and returns the exit code for
// os.Exit:
//
//   - on a machine that cannot run the cluster (not Linux, not root) it runs
//     nothing and returns 0 after saying why, or 1 when CI is set;
//   - with KUBECI_E2E_KUBECONFIG set it reuses that cluster and leaves it up;
//   - otherwise it brings a cluster up (Up) and tears it down after the tests
//     (unless KUBECI_E2E_KEEP is set), also on SIGINT or SIGTERM.
//
// A test binary that panics or times out exits without tearing down; the next
// Up, or `make e2e` (which runs `e2e-cluster down --leftovers` afterwards),
// removes what it left.
func Main(m *testing.M) int {
	if reason := Unsupported(); reason != "" {
		if os.Getenv("CI") != "" {
			fmt.Fprintf(os.Stderr, "e2e: cannot run the end-to-end tests: %s (failing because CI is set)\n", reason)
			return 1
		}
		fmt.Fprintf(os.Stderr, "e2e: skipping the end-to-end tests: %s\n", reason)
		return 0
	}
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	var err error
	if kc := os.Getenv(EnvKubeconfig); kc != "" {
		shared, err = Connect(ctx, kc)
	} else {
		shared, err = Up(ctx, Options{Keep: os.Getenv(EnvKeep) != ""})
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}

	finished := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			fmt.Fprintln(os.Stderr, "e2e: interrupted; tearing the cluster down")
			if err := shared.Stop(); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
			}
			os.Exit(130)
		case <-finished:
		}
	}()
	code := m.Run()
	close(finished)
	if err := shared.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// Get returns the cluster Main brought up. It fails the test when called
// without Main in TestMain.
func Get(t testing.TB) *Cluster {
	t.Helper()
	if shared == nil {
		t.Fatal("cluster.Get called without cluster.Main in TestMain")
	}
	return shared
}

// Kubectl runs kubectl against the cluster and returns its standard output,
// failing the test when kubectl fails.
func (cl *Cluster) Kubectl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := cl.RunKubectl(t.Context(), args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Namespace creates a namespace with a unique name for the test and deletes it
// when the test ends (the controller-manager then removes what it holds).
func (cl *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-"}}
	ns, err := cl.Clientset.CoreV1().Namespaces().Create(t.Context(), ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	t.Cleanup(func() {
		_ = cl.Clientset.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}
