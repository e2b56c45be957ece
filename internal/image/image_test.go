package image

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// fakeBusybox builds testdata/fakebusybox, a static binary that answers
// --list with busybox, cat, ls, sh and sleep (the end-to-end step image's
// tests use it too).
func fakeBusybox(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "busybox")
	if err := GoBuild(t.Context(), ".", out, "./testdata/fakebusybox", ""); err != nil {
		t.Fatal(err)
	}
	return out
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
	files, err := Files(img.Image)
	if err != nil {
		t.Fatal(err)
	}
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
	if !errors.Is(err, ErrDynamic) {
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

func TestFromBinariesFirstIsEntrypoint(t *testing.T) {
	dir := t.TempDir()
	bin := fakeBusybox(t)
	other := filepath.Join(dir, "kubeci")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, data, 0o755); err != nil {
		t.Fatal(err)
	}
	img, err := FromBinaries("kubeci.local/kubeci:test", bin, other)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"/usr/local/bin/busybox"}, cf.Config.Entrypoint); diff != "" {
		t.Errorf("entrypoint (-want +got):\n%s", diff)
	}
	files, err := Files(img.Image)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"usr/local/bin/busybox 0 0755 0:0", "usr/local/bin/kubeci 0 0755 0:0", "etc/passwd 0 0644 0:0"} {
		if !slices.Contains(files, want) {
			t.Errorf("layer lacks %q: %v", want, files)
		}
	}
	if _, err := FromBinaries("kubeci.local/kubeci:test"); err == nil {
		t.Error("FromBinaries accepted no binary")
	}
}

// toolImage is an image around the fake busybox, and its digest.
func toolImage(t *testing.T) (*Image, string) {
	t.Helper()
	img, err := FromBinary(fakeBusybox(t), "kubeci.local/tool:e2e")
	if err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return img, digest
}

// WriteOCI writes an OCI layout tarball that names the manifest under every
// name asked for (tag and digest), holds every blob, and is byte for byte
// the same when written again.
func TestWriteOCI(t *testing.T) {
	img, digest := toolImage(t)
	byDigest := "kubeci.local/tool@" + digest
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.tar"), filepath.Join(dir, "b.tar")
	for _, f := range []string{a, b} {
		if err := img.WriteOCI(f, img.Name, byDigest); err != nil {
			t.Fatal(err)
		}
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) {
		t.Error("two writes of the same image differ")
	}
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(ab))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		files[h.Name] = data
	}
	var index v1.IndexManifest
	if err := json.Unmarshal(files["index.json"], &index); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	var names []string
	for _, m := range index.Manifests {
		if m.Digest.String() != digest {
			t.Errorf("index entry %s, want %s", m.Digest, digest)
		}
		names = append(names, m.Annotations[containerdImageName])
	}
	if diff := cmp.Diff([]string{"kubeci.local/tool:e2e", byDigest}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	m, err := img.Image.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range append([]v1.Descriptor{m.Config, index.Manifests[0]}, m.Layers...) {
		if _, ok := files["blobs/sha256/"+d.Digest.Hex]; !ok {
			t.Errorf("blob %s missing", d.Digest)
		}
	}
	size, err := img.Size()
	if err != nil || size < int64(len(files["blobs/sha256/"+m.Layers[0].Digest.Hex])) {
		t.Errorf("Size() = %d, %v; want at least the layer's size", size, err)
	}
}

// Push writes the image to a registry (here an in-memory one), where it has
// the same digest, and returns the reference by digest.
func TestPush(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, digest := toolImage(t)
	got, err := img.Push(t.Context(), host+"/kubeci:v1")
	if err != nil {
		t.Fatal(err)
	}
	if want := host + "/kubeci@" + digest; got != want {
		t.Errorf("Push = %s, want %s", got, want)
	}
	ref, err := name.ParseReference(host+"/kubeci:v1", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(ref)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest.String() != digest {
		t.Errorf("the registry has %s, want %s", desc.Digest, digest)
	}
	if _, err := img.Push(t.Context(), "not a name"); err == nil {
		t.Error("Push accepted an invalid name")
	}
}
