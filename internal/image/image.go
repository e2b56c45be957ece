package image

import (
	"archive/tar"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// NonRootUID is the user (and group) the binary images run as, distroless's
// "nonroot".
const NonRootUID = 65532

// BinDir is where FromBinaries puts the binaries.
const BinDir = "/usr/local/bin"

// CACertificates is where Debian's ca-certificates package keeps the bundle
// of trusted certificate authorities; FromBinaries copies it into the image
// when the building machine has it.
const CACertificates = "/etc/ssl/certs/ca-certificates.crt"

// Image is a built image with the name it is written, imported or pushed under.
type Image struct {
	Name  string
	Image v1.Image
}

// New builds a one-layer image for the building machine's architecture, with
// OCI media types and no creation time.
func New(imageName string, l *Layer, cfg v1.Config) (*Image, error) {
	layer, err := l.layer()
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = runtime.GOARCH
	cf.Config = cfg
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return &Image{Name: imageName, Image: img}, nil
}

// FromBinary builds an image named imageName around one static binary; see
// FromBinaries.
func FromBinary(binaryPath, imageName string) (*Image, error) {
	return FromBinaries(imageName, binaryPath)
}

// FromBinaries builds an image named imageName around static binaries: each
// as /usr/local/bin/<its file name>, the first the entrypoint, run as the
// non-root user 65532 with the BaseFiles and, when this machine has them, the
// CA certificates (Debian's ca-certificates), so that TLS to anything but the
// API server works too. A dynamically
// linked binary is refused: build it with CGO_ENABLED=0.
func FromBinaries(imageName string, binaryPaths ...string) (*Image, error) {
	if len(binaryPaths) == 0 {
		return nil, errors.New("an image needs at least one binary")
	}
	l := NewLayer()
	for _, p := range binaryPaths {
		if err := CheckStatic(p); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		l.File(path.Join(BinDir, filepath.Base(p)), 0o755, data)
	}
	BaseFiles(l)
	if err := caCertificates(l); err != nil {
		return nil, err
	}
	return New(imageName, l, v1.Config{
		Entrypoint: []string{path.Join(BinDir, filepath.Base(binaryPaths[0]))},
		Env:        []string{"PATH=" + BinDir + ":/bin", "HOME=/home/nonroot"},
		User:       fmt.Sprintf("%d:%d", NonRootUID, NonRootUID),
		WorkingDir: "/home/nonroot",
	})
}

// BaseFiles adds what every image has, as a distroless base does: users root,
// nonroot (65532) and nobody in /etc/passwd and /etc/group, nonroot's home
// and /tmp.
func BaseFiles(l *Layer) {
	l.File("etc/passwd", 0o644, []byte(fmt.Sprintf(
		"root:x:0:0:root:/root:/bin/sh\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
		NonRootUID, NonRootUID)))
	l.File("etc/group", 0o644, []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\nnogroup:x:65534:\n", NonRootUID)))
	l.Dir("home/nonroot", 0o755, NonRootUID, NonRootUID)
	l.Dir("tmp", 0o1777, 0, 0)
}

// caCertificates copies this machine's CA certificates into the layer, if it
// has them.
func caCertificates(l *Layer) error {
	certs, err := os.ReadFile(CACertificates)
	switch {
	case err == nil:
		l.File(CACertificates, 0o644, certs)
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("reading the CA certificates: %w", err)
	}
	return nil
}

// ID is the image's configuration digest, as containerd and the kubelet report it.
func (i *Image) ID() (string, error) {
	h, err := i.Image.ConfigName()
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// Digest is the image's manifest digest: what a reference by digest
// (name@sha256:...) names, in a registry and in containerd alike.
func (i *Image) Digest() (string, error) {
	h, err := i.Image.Digest()
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// Size is the bytes a pull transfers: the manifest, the configuration and
// the compressed layers.
func (i *Image) Size() (int64, error) {
	m, err := i.Image.Manifest()
	if err != nil {
		return 0, err
	}
	size, err := i.Image.Size()
	if err != nil {
		return 0, err
	}
	size += m.Config.Size
	for _, l := range m.Layers {
		size += l.Size
	}
	return size, nil
}

// CheckStatic fails when file is not a statically linked ELF executable: the
// images hold no C library.
func CheckStatic(file string) error {
	f, err := elf.Open(file)
	if err != nil {
		return fmt.Errorf("%s is not a readable ELF executable: %w", file, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; the image has no C library: %w", file, ErrDynamic)
		}
	}
	return nil
}

// ErrDynamic is wrapped by the error for a dynamically linked binary.
var ErrDynamic = errors.New("build it statically (for Go: CGO_ENABLED=0)")

// Files lists the entries of the image's layers, one a line as "name type
// mode uid:gid [-> link]" (type as in tar: 0 file, 2 link, 5 folder), so
// that what an image holds can be shown and checked.
func Files(img v1.Image) ([]string, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rc.Close()
				return nil, err
			}
			s := fmt.Sprintf("%s %c %#o %d:%d", h.Name, h.Typeflag, h.Mode, h.Uid, h.Gid)
			if h.Linkname != "" {
				s += " -> " + h.Linkname
			}
			out = append(out, s)
		}
		rc.Close()
	}
	return out, nil
}
