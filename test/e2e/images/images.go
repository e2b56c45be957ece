package images

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Names of the images the end-to-end cluster uses. Pods must refer to them
// with imagePullPolicy IfNotPresent or Never: nothing can be pulled.
const (
	// Busybox is the step image: /bin/busybox and a link for each applet.
	Busybox = "kubeci.local/busybox:e2e"
	// Pause is containerd's sandbox image.
	Pause = "kubeci.local/pause:e2e"
	// Operator is the image of Kube CI's operator (FromBinary of bin/kubeci-operator).
	Operator = "kubeci.local/kubeci-operator:e2e"
)

// DefaultBusyboxPath is where Debian's busybox-static package installs busybox.
const DefaultBusyboxPath = "/bin/busybox"

// NonRootUID is the user (and group) the binary images run as.
const NonRootUID = 65532

// Image is a built image with the name it is written and imported under.
type Image struct {
	Name  string
	Image v1.Image
}

// NewBusybox builds the step image from a static busybox binary: /bin/busybox,
// a link in /bin for each applet it lists, /etc/passwd and /etc/group with root
// and nonroot (65532), and /tmp. It runs as root with /bin/sh as its command.
func NewBusybox(busyboxPath string) (*Image, error) {
	l, err := busyboxLayer(busyboxPath)
	if err != nil {
		return nil, err
	}
	return newImage(Busybox, l, v1.Config{
		Cmd:        []string{"/bin/sh"},
		Env:        []string{"PATH=/bin"},
		WorkingDir: "/",
	})
}

// NewPause builds the sandbox image: the busybox layer with `sleep` as its
// entrypoint. containerd stops sandboxes with SIGKILL, so sleep (which, as
// process 1, ignores SIGTERM) is enough.
func NewPause(busyboxPath string) (*Image, error) {
	l, err := busyboxLayer(busyboxPath)
	if err != nil {
		return nil, err
	}
	return newImage(Pause, l, v1.Config{
		Entrypoint: []string{"/bin/sleep", "2147483647"},
		Env:        []string{"PATH=/bin"},
		WorkingDir: "/",
	})
}

// FromBinary builds an image named imageName around a static binary: the
// binary as /usr/local/bin/<its file name> and the entrypoint, run as the
// non-root user 65532 with /etc/passwd, /etc/group, a home folder and /tmp.
// A dynamically linked binary is refused: build it with CGO_ENABLED=0.
func FromBinary(binaryPath, imageName string) (*Image, error) {
	if err := checkStatic(binaryPath); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(binaryPath)
	if err != nil {
		return nil, err
	}
	target := path.Join("/usr/local/bin", filepath.Base(binaryPath))
	l := newLayer()
	l.file(target, 0o755, data)
	baseFiles(l)
	return newImage(imageName, l, v1.Config{
		Entrypoint: []string{target},
		Env:        []string{"PATH=/usr/local/bin:/bin", "HOME=/home/nonroot"},
		User:       fmt.Sprintf("%d:%d", NonRootUID, NonRootUID),
		WorkingDir: "/home/nonroot",
	})
}

// WriteArchive writes the image as a docker-archive tarball (manifest.json,
// the configuration and the layers) that `ctr images import` reads.
func (i *Image) WriteArchive(file string) error {
	tag, err := name.NewTag(i.Name, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("image name %q: %w (use a full name such as %s)", i.Name, err, Busybox)
	}
	if err := tarball.WriteToFile(file, tag, i.Image); err != nil {
		return fmt.Errorf("writing image %s to %s: %w", i.Name, file, err)
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

func newImage(imageName string, l *layer, cfg v1.Config) (*Image, error) {
	layer, err := l.image()
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
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

// busyboxLayer holds busybox, its applet links and the base files.
func busyboxLayer(busyboxPath string) (*layer, error) {
	if err := checkStatic(busyboxPath); err != nil {
		return nil, fmt.Errorf("%w (Debian's busybox-static package installs a static %s)", err, DefaultBusyboxPath)
	}
	data, err := os.ReadFile(busyboxPath)
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(busyboxPath, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("listing the applets of %s: %w", busyboxPath, err)
	}
	l := newLayer()
	l.file("bin/busybox", 0o755, data)
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" || strings.Contains(applet, "/") {
			continue
		}
		l.symlink("bin/"+applet, "busybox")
	}
	if _, ok := l.entries["bin/sh"]; !ok {
		return nil, fmt.Errorf("%s lists no sh applet; it cannot serve as a step image", busyboxPath)
	}
	baseFiles(l)
	l.dir("root", 0o700, 0, 0)
	return l, nil
}

// baseFiles adds the users, groups and folders every image has.
func baseFiles(l *layer) {
	l.file("etc/passwd", 0o644, []byte(fmt.Sprintf(
		"root:x:0:0:root:/root:/bin/sh\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n",
		NonRootUID, NonRootUID)))
	l.file("etc/group", 0o644, []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\nnogroup:x:65534:\n", NonRootUID)))
	l.dir("home/nonroot", 0o755, NonRootUID, NonRootUID)
	l.dir("tmp", 0o1777, 0, 0)
}

// checkStatic fails when file is not a statically linked ELF executable: the
// images hold no C library.
func checkStatic(file string) error {
	f, err := elf.Open(file)
	if err != nil {
		return fmt.Errorf("%s is not a readable ELF executable: %w", file, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; the image has no C library: %w", file, errDynamic)
		}
	}
	return nil
}

var errDynamic = errors.New("build it statically (for Go: CGO_ENABLED=0)")
