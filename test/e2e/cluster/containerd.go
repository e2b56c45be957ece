package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kubeci/kubeci/internal/image"
	"github.com/kubeci/kubeci/test/e2e/images"
)

// containerdNamespace is the containerd namespace the CRI plugin (so the
// kubelet) uses.
const containerdNamespace = "k8s.io"

// importImage writes img as an OCI layout tarball in the state folder and
// imports it into the cluster's containerd under its name, or under names
// when given, where the kubelet finds it (a reference by digest included:
// the tarball keeps the manifest, so containerd sees the same digest).
func importImage(c *Config, img *image.Image, names ...string) error {
	dir := c.Path("images")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	file := filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(img.Name)+".tar")
	if err := img.WriteOCI(file, names...); err != nil {
		return err
	}
	if out, err := ctr(c, "images", "import", file); err != nil {
		return fmt.Errorf("importing %s into containerd: %w\n%s", img.Name, err, out)
	}
	return nil
}

// importBaseImages imports the pause (sandbox) and busybox (step) images.
func importBaseImages(c *Config) error {
	for _, build := range []func(string) (*image.Image, error){images.NewPause, images.NewBusybox} {
		img, err := build(images.DefaultBusyboxPath)
		if err != nil {
			return err
		}
		if err := importImage(c, img); err != nil {
			return err
		}
	}
	return nil
}

// ctr runs containerd's CLI against the cluster's containerd, in the CRI
// plugin's namespace.
func ctr(c *Config, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append([]string{"--address", c.ContainerdSocket(), "--namespace", containerdNamespace}, args...)
	cmd := exec.CommandContext(ctx, "ctr", args...)
	dieWithParent(cmd) // an interrupted test exits at once; ctr must not linger
	return cmd.CombinedOutput()
}

// killShims kills the containerd-shim processes serving the cluster's
// containerd (they outlive containerd by design), found by the socket
// address on their command line.
func killShims(c *Config) error {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return err
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(bytes.TrimRight(cmdline, "\x00")), "\x00")
		if !strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") {
			continue
		}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-address" && args[i+1] == c.ContainerdSocket() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				break
			}
		}
	}
	return nil
}

// shimSocketDir is where containerd 1.6's shims put their sockets, whatever
// containerd's state folder: /run/containerd/s/<sha256 of socket/namespace/id>.
const shimSocketDir = "/run/containerd/s"

// removeShimSockets removes the sockets of the cluster's shims (a killed shim
// leaves its socket), then /run/containerd/s and /run/containerd if empty.
func removeShimSockets(c *Config) error {
	tasks, _ := os.ReadDir(c.Path("containerd", "state", "io.containerd.runtime.v2.task", containerdNamespace))
	var errs []error
	for _, t := range tasks {
		sum := sha256.Sum256([]byte(filepath.Join(c.ContainerdSocket(), containerdNamespace, t.Name())))
		if err := os.Remove(filepath.Join(shimSocketDir, fmt.Sprintf("%x", sum))); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	_ = os.Remove(shimSocketDir)               // only when empty
	_ = os.Remove(filepath.Dir(shimSocketDir)) // idem
	return errors.Join(errs...)
}
