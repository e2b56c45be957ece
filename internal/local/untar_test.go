package local

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// No entry of an image, nor a link it makes, writes outside the directory it
// is unpacked to.
func TestUntarStaysInside(t *testing.T) {
	outside := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	add(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "bin/sh", Typeflag: tar.TypeReg, Mode: 0o755}, "shell")
	add(&tar.Header{Name: "bin/ls", Typeflag: tar.TypeSymlink, Linkname: "sh"}, "")
	add(&tar.Header{Name: "bin/cat", Typeflag: tar.TypeLink, Linkname: "bin/sh"}, "")
	add(&tar.Header{Name: "../escape", Typeflag: tar.TypeReg}, "no")
	add(&tar.Header{Name: "out", Typeflag: tar.TypeSymlink, Linkname: outside}, "")
	add(&tar.Header{Name: "out/evil", Typeflag: tar.TypeReg}, "no")
	tw.Close()

	dir := t.TempDir()
	_ = untar(&buf, dir) // out/evil may be refused: what matters is where it lands
	if data, err := os.ReadFile(filepath.Join(dir, "bin", "cat")); err != nil || string(data) != "shell" {
		t.Errorf("bin/cat = %q (%v), want the hard link's content", data, err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "bin", "ls")); err != nil || target != "sh" {
		t.Errorf("bin/ls links to %q (%v), want sh", target, err)
	}
	if _, err := os.Stat(filepath.Join(outside, "evil")); err == nil {
		t.Error("an entry was written through a symbolic link to outside the root")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape")); err == nil {
		t.Error("an entry named ../escape was written outside the root")
	}
}
