package images

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kubeci/kubeci/internal/image"
)

// fakeBusybox builds internal/image's testdata/fakebusybox, a static binary
// that answers --list with busybox, cat, ls, sh and sleep.
func fakeBusybox(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "busybox")
	if err := image.GoBuild(t.Context(), "../../../internal/image", out, "./testdata/fakebusybox", ""); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNewBusyboxLinksEveryApplet(t *testing.T) {
	img, err := NewBusybox(fakeBusybox(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"bin/ 5 0755 0:0",
		"bin/busybox 0 0755 0:0",
		"bin/cat 2 0777 0:0 -> busybox",
		"bin/ls 2 0777 0:0 -> busybox",
		"bin/sh 2 0777 0:0 -> busybox",
		"bin/sleep 2 0777 0:0 -> busybox",
		"etc/ 5 0755 0:0",
		"etc/group 0 0644 0:0",
		"etc/passwd 0 0644 0:0",
		"home/ 5 0755 0:0",
		"home/nonroot/ 5 0755 65532:65532",
		"root/ 5 0700 0:0",
		"tmp/ 5 01777 0:0",
	}
	files, err := image.Files(img.Image)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("layer (-want +got):\n%s", diff)
	}
	cf, err := img.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/bin/sh"}, cf.Config.Cmd); diff != "" || cf.OS != "linux" {
		t.Errorf("config: os %q, cmd (-want +got):\n%s", cf.OS, diff)
	}
}

func TestNewPauseSleeps(t *testing.T) {
	img, err := NewPause(fakeBusybox(t))
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/bin/sleep", "2147483647"}, cf.Config.Entrypoint); diff != "" {
		t.Errorf("entrypoint (-want +got):\n%s", diff)
	}
	if img.Name != Pause {
		t.Errorf("name %q, want %q", img.Name, Pause)
	}
}
