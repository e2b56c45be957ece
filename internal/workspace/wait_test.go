package workspace

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The workspace cleaner waits for its signal, then removes the workspace.
func TestRemoveWhenSignalledWaitsThenRemoves(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "workspaces", "run-1")
	if err := os.MkdirAll(filepath.Join(dir, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	stop := make(chan os.Signal, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { done <- RemoveWhenSignalled(dir, stop, &out) }()
	select {
	case err := <-done:
		t.Fatalf("returned %v before the signal", err)
	case <-time.After(100 * time.Millisecond):
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the workspace went before the signal: %v", err)
	}
	stop <- syscall.SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not return after the signal")
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there: %v", dir, err)
	}
	if !strings.Contains(out.String(), "kubeci: removed "+dir) {
		t.Errorf("output %q", out.String())
	}
}

// A wrong folder is refused at once, not after the wait.
func TestRemoveWhenSignalledRefusesAtOnce(t *testing.T) {
	err := RemoveWhenSignalled("/workspaces", make(chan os.Signal), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("err = %v, want a refusal", err)
	}
}
