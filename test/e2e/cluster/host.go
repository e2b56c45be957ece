package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Unsupported says why this machine cannot run the cluster (not Linux, not
// root), or returns "" when it can.
func Unsupported() string {
	if runtime.GOOS != "linux" {
		return fmt.Sprintf("the end-to-end cluster runs on Linux only (this is %s)", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return "the end-to-end cluster needs root (it runs containerd and the kubelet, mounts, and changes iptables); run `sudo make e2e`"
	}
	return ""
}

// hostPackages maps a file the cluster needs to the Debian package holding it.
var hostPackages = []struct{ file, pkg string }{
	{"/usr/bin/containerd", "containerd"},
	{"/usr/bin/ctr", "containerd"},
	{"/usr/sbin/runc", "runc"},
	{cniBinDir + "/bridge", "containernetworking-plugins"},
	{cniBinDir + "/host-local", "containernetworking-plugins"},
	{cniBinDir + "/portmap", "containernetworking-plugins"},
	{cniBinDir + "/loopback", "containernetworking-plugins"},
	{"/usr/sbin/iptables", "iptables"},
	{"/usr/sbin/ip", "iproute2"},
	{"/bin/busybox", "busybox-static"},
}

// installPackages installs, with apt-get, the Debian packages holding files
// the cluster needs that are missing.
func installPackages(logf func(string, ...any)) error {
	var missing []string
	seen := map[string]bool{}
	for _, hp := range hostPackages {
		if _, err := os.Stat(hp.file); err == nil || seen[hp.pkg] {
			continue
		}
		seen[hp.pkg] = true
		missing = append(missing, hp.pkg)
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("missing packages %s and no apt-get to install them: install them by hand", strings.Join(missing, " "))
	}
	logf("installing %s with apt-get", strings.Join(missing, " "))
	if out, err := aptGet("update", "-qq"); err != nil {
		return fmt.Errorf("apt-get update: %w\n%s", err, out)
	}
	args := append([]string{"install", "-y", "-qq", "--no-install-recommends"}, missing...)
	if out, err := aptGet(args...); err != nil {
		return fmt.Errorf("apt-get install %s: %w\n%s", strings.Join(missing, " "), err, out)
	}
	return nil
}

func aptGet(args ...string) ([]byte, error) {
	cmd := exec.Command("apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	return cmd.CombinedOutput()
}

// k8sComponents are the binaries hack/build-k8s.sh provides.
var k8sComponents = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kubelet", "kubectl"}

// k8sBinaries returns the folder holding k8sComponents: KUBECI_E2E_K8S_BIN, or
// the one hack/build-k8s.sh fills (building what is missing, cached in bin/).
func k8sBinaries(root string) (string, error) {
	dir := os.Getenv(EnvK8sBin)
	if dir == "" {
		cmd := exec.Command(filepath.Join(root, "hack", "build-k8s.sh"), k8sComponents...)
		cmd.Dir = root
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("hack/build-k8s.sh %s: %w", strings.Join(k8sComponents, " "), err)
		}
		dir = strings.TrimSpace(string(out))
	}
	for _, c := range k8sComponents {
		if _, err := os.Stat(filepath.Join(dir, c)); err != nil {
			return "", fmt.Errorf("%s is missing from %s: run hack/build-k8s.sh %s", c, dir, c)
		}
	}
	return dir, nil
}

// RepoRoot finds the repository's root folder: the closest folder above the
// working directory whose go.mod declares the Kube CI module.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module github.com/kubeci/kubeci\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the Kube CI repository (no go.mod of github.com/kubeci/kubeci above the working directory)")
		}
		dir = parent
	}
}

// touchedSysctls are the kernel settings the kubelet, the bridge plugin and
// kube-proxy change. Up saves them and Down puts them back.
var touchedSysctls = []string{
	"net/ipv4/ip_forward",
	"net/ipv4/conf/all/route_localnet",
	"net/bridge/bridge-nf-call-iptables",
	"vm/overcommit_memory",
	"vm/panic_on_oom",
	"kernel/panic",
	"kernel/panic_on_oops",
	"kernel/keys/root_maxkeys",
	"kernel/keys/root_maxbytes",
}

func sysctlFile(c *Config) string { return c.Path("sysctls.json") }

// saveSysctls records the current values of touchedSysctls.
func saveSysctls(c *Config) error {
	saved := map[string]string{}
	for _, name := range touchedSysctls {
		data, err := os.ReadFile(filepath.Join("/proc/sys", name))
		if err != nil {
			continue // not on this kernel
		}
		saved[name] = strings.TrimSpace(string(data))
	}
	data, err := json.MarshalIndent(saved, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(sysctlFile(c), data, 0o644)
}

// restoreSysctls puts back the values saveSysctls recorded.
func restoreSysctls(c *Config) error {
	data, err := os.ReadFile(sysctlFile(c))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	saved := map[string]string{}
	if err := json.Unmarshal(data, &saved); err != nil {
		return fmt.Errorf("%s: %w", sysctlFile(c), err)
	}
	var errs []error
	for name, value := range saved {
		file := filepath.Join("/proc/sys", name)
		cur, err := os.ReadFile(file)
		if err != nil || strings.TrimSpace(string(cur)) == value {
			continue
		}
		if err := os.WriteFile(file, []byte(value), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("restoring sysctl %s to %s: %w", name, value, err))
		}
	}
	return errors.Join(errs...)
}
