package images

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/kubeci/kubeci/internal/image"
)

// Names of the images the end-to-end cluster uses. Pods must refer to them
// with imagePullPolicy IfNotPresent or Never: nothing can be pulled.
const (
	// Busybox is the step image: /bin/busybox and a link for each applet.
	Busybox = "kubeci.local/busybox:e2e"
	// Pause is containerd's sandbox image.
	Pause = "kubeci.local/pause:e2e"
	// KubeCI is the repository of Kube CI's image (image.Build), imported
	// under this name with the tag e2e and by digest.
	KubeCI = "kubeci.local/kubeci"
)

// DefaultBusyboxPath is where Debian's busybox-static package installs busybox.
const DefaultBusyboxPath = "/bin/busybox"

// NewBusybox builds the step image from a static busybox binary: /bin/busybox,
// a link in /bin for each applet it lists, the base files (image.BaseFiles)
// and /root. It runs as root with /bin/sh as its command.
func NewBusybox(busyboxPath string) (*image.Image, error) {
	l, err := busyboxLayer(busyboxPath)
	if err != nil {
		return nil, err
	}
	return image.New(Busybox, l, v1.Config{
		Cmd:        []string{"/bin/sh"},
		Env:        []string{"PATH=/bin"},
		WorkingDir: "/",
	})
}

// NewPause builds the sandbox image: the busybox layer with `sleep` as its
// entrypoint. containerd stops sandboxes with SIGKILL, so sleep (which, as
// process 1, ignores SIGTERM) is enough.
func NewPause(busyboxPath string) (*image.Image, error) {
	l, err := busyboxLayer(busyboxPath)
	if err != nil {
		return nil, err
	}
	return image.New(Pause, l, v1.Config{
		Entrypoint: []string{"/bin/sleep", "2147483647"},
		Env:        []string{"PATH=/bin"},
		WorkingDir: "/",
	})
}

// busyboxLayer holds busybox, its applet links and the base files.
func busyboxLayer(busyboxPath string) (*image.Layer, error) {
	if err := image.CheckStatic(busyboxPath); err != nil {
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
	l := image.NewLayer()
	l.File("bin/busybox", 0o755, data)
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" || strings.Contains(applet, "/") {
			continue
		}
		l.Symlink("bin/"+applet, "busybox")
	}
	if !l.Has("bin/sh") {
		return nil, fmt.Errorf("%s lists no sh applet; it cannot serve as a step image", busyboxPath)
	}
	image.BaseFiles(l)
	l.Dir("root", 0o700, 0, 0)
	return l, nil
}
