package images

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// fakeBusybox builds testdata/fakebusybox, a static binary that answers
// --list with busybox, cat, ls, sh and sleep.
func fakeBusybox(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "busybox")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/fakebusybox")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

// layerFiles lists the entries of the image's single layer as "name type mode
// uid:gid [-> link]".
func layerFiles(t *testing.T, img v1.Image) []string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 {
		t.Fatalf("%d layers, want 1", len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var got []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		s := fmt.Sprintf("%s %c %#o %d:%d", h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid)
		if h.Linkname != "" {
			s += " -> " + h.Linkname
		}
		got = append(got, s)
	}
	return got
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
	if diff := cmp.Diff(want, layerFiles(t, img.Image)); diff != "" {
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

func TestFromBinaryRunsAsNonRoot(t *testing.T) {
	bin := fakeBusybox(t)
	img, err := FromBinary(bin, "kubeci.local/tool:e2e")
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", cf.Config.User)
	}
	if diff := cmp.Diff([]string{"/usr/local/bin/busybox"}, cf.Config.Entrypoint); diff != "" {
		t.Errorf("entrypoint (-want +got):\n%s", diff)
	}
	files := layerFiles(t, img.Image)
	if !sort.StringsAreSorted(files) {
		t.Errorf("layer entries not sorted: %v", files)
	}
	found := false
	for _, f := range files {
		if f == "usr/local/bin/busybox 0 0755 0:0" {
			found = true
		}
	}
	if !found {
		t.Errorf("layer lacks the binary: %v", files)
	}
}

func TestWriteArchiveRoundTrip(t *testing.T) {
	bin := fakeBusybox(t)
	img, err := FromBinary(bin, "kubeci.local/tool:e2e")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "tool.tar")
	if err := img.WriteArchive(file); err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag("kubeci.local/tool:e2e")
	if err != nil {
		t.Fatal(err)
	}
	back, err := tarball.ImageFromPath(file, &tag)
	if err != nil {
		t.Fatalf("reading the archive back: %v", err)
	}
	want, err := img.ID()
	if err != nil {
		t.Fatal(err)
	}
	got, err := back.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want {
		t.Errorf("image ID read back %s, want %s", got, want)
	}

	// The same inputs give the same image.
	again, err := FromBinary(bin, "kubeci.local/tool:e2e")
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := again.ID(); id != want {
		t.Errorf("rebuilt image ID %s, want %s (not reproducible)", id, want)
	}
}

func TestWriteArchiveRejectsShortName(t *testing.T) {
	img, err := FromBinary(fakeBusybox(t), "Not A Name")
	if err != nil {
		t.Fatal(err)
	}
	if err := img.WriteArchive(filepath.Join(t.TempDir(), "x.tar")); err == nil {
		t.Error("WriteArchive accepted an invalid image name")
	}
}

func TestFromBinaryRejectsDynamicBinary(t *testing.T) {
	file := filepath.Join(t.TempDir(), "dynamic")
	if err := os.WriteFile(file, dynamicELF(), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := FromBinary(file, "kubeci.local/tool:e2e")
	if !errors.Is(err, errDynamic) {
		t.Errorf("FromBinary(dynamic binary) = %v, want an error saying to build statically", err)
	}
	if _, err := FromBinary(filepath.Join(t.TempDir(), "missing"), "kubeci.local/tool:e2e"); err == nil {
		t.Error("FromBinary accepted a missing file")
	}
}

// dynamicELF is the smallest ELF file debug/elf reads with an interpreter
// program header, as a dynamically linked executable has.
func dynamicELF() []byte {
	var b bytes.Buffer
	hdr := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: 1, Shentsize: 64,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	_ = binary.Write(&b, binary.LittleEndian, hdr)
	_ = binary.Write(&b, binary.LittleEndian, elf.Prog64{Type: uint32(elf.PT_INTERP), Off: 120, Filesz: 1, Memsz: 1})
	b.WriteByte(0)
	return b.Bytes()
}
