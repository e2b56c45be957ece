package workspace

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRemoveDeletesEverythingButFollowsNoLink(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(root, "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	kept := filepath.Join(outside, "kept")
	if err := os.WriteFile(kept, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "workspaces", "run-1")
	for _, f := range []string{"a/b/c", ".hidden", "a/.dot"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "a", "b"), 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(filepath.Join(dir, "a", "b"), 0o755) //nolint:errcheck // best effort for TempDir's cleanup
	var out bytes.Buffer
	err := Remove(dir, &out)
	if os.Geteuid() != 0 {
		// Without root, a read-only folder's content cannot go: reported.
		if err == nil || !strings.Contains(err.Error(), "could not be removed") {
			t.Fatalf("Remove = %v, want an error saying the folder is left", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there: %v", dir, err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("a file behind a link was touched: %v", err)
	}
	if got := out.String(); got != "kubeci: removed "+dir+"\n" {
		t.Errorf("output %q", got)
	}
	// Removing again succeeds: nothing is there.
	if err := Remove(dir, &out); err != nil {
		t.Errorf("second Remove = %v", err)
	}
}

func TestRemoveRefusesDangerousPaths(t *testing.T) {
	for _, dir := range []string{"", "/", "/workspaces", "relative/run", "/workspaces/../etc", "/workspaces/run/", "/workspaces//run"} {
		if err := Remove(dir, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("Remove(%q) = %v, want a refusal", dir, err)
		}
	}
}
