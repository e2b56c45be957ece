package local

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/kubeci/kubeci/internal/manifest"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// TestMain lets the test binary serve as the host runtime's step process: the
// host runtime re-executes it with HostStepCommand, as kubeci re-executes
// itself.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == HostStepCommand {
		os.Exit(HostStepMain(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == OCIStepCommand {
		os.Exit(OCIStepMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// hostRuntime returns a host runtime that re-executes this test binary. Where
// it cannot work it fails when running as root (as CI does: it must work
// there) and skips otherwise, saying why.
func hostRuntime(t *testing.T) *Host {
	t.Helper()
	h := &Host{Self: []string{"/proc/self/exe"}, Grace: 2 * time.Second}
	if err := h.Available(context.Background()); err != nil {
		if os.Geteuid() == 0 {
			t.Fatalf("the host runtime must work as root: %v", err)
		}
		t.Skipf("the host runtime cannot work for this user here: %v", err)
	}
	return h
}

// loadExample reads one of the Workflows under examples/.
func loadExample(t testing.TB, name string) *kubeciv1.Workflow {
	t.Helper()
	return loadWorkflow(t, "../../examples/"+name)
}

func loadWorkflow(t testing.TB, path string) *kubeciv1.Workflow {
	t.Helper()
	docs, err := manifest.LoadFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Err != nil {
		t.Fatalf("%s: want one valid Workflow document, got %d (%v)", path, len(docs), docs[0].Err)
	}
	return docs[0].Workflow
}
