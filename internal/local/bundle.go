package local

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// defaultPath is the PATH a container gets when its image sets none, as
// containerd and docker give it.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// BundleMount is a file or directory of this machine a step's container sees.
type BundleMount struct {
	Source, Destination string
	ReadOnly            bool
}

// stepArgs is the command line a pod's container runs, as the kubelet builds
// it: the step's commands replace the image's entrypoint and its default
// arguments; the step's args replace the default arguments only.
func stepArgs(s Step, img v1.Config) []string {
	if len(s.Command) > 0 {
		return append(append([]string(nil), s.Command...), s.Args...)
	}
	args := s.Args
	if len(args) == 0 {
		args = img.Cmd
	}
	return append(append([]string(nil), img.Entrypoint...), args...)
}

// stepEnv is the image's environment with the step's on top: a step variable
// replaces the image's of the same name, in the image's position.
func stepEnv(s Step, img v1.Config) []string {
	index := map[string]int{}
	var env []string
	set := func(kv string) {
		name, _, _ := strings.Cut(kv, "=")
		if i, ok := index[name]; ok {
			env[i] = kv
			return
		}
		index[name] = len(env)
		env = append(env, kv)
	}
	for _, kv := range img.Env {
		set(kv)
	}
	if _, ok := index["PATH"]; !ok {
		set(defaultPath)
	}
	for _, kv := range s.Env {
		set(kv)
	}
	return env
}

// stepWorkDir is the step's working directory, else the image's, else /.
func stepWorkDir(s Step, img v1.Config) string {
	switch {
	case s.WorkingDir != "":
		return s.WorkingDir
	case img.WorkingDir != "":
		return img.WorkingDir
	}
	return "/"
}

// imageUser resolves an image's User ("", "uid", "uid:gid", "name",
// "name:group") against the image's /etc/passwd and /etc/group, as container
// engines do. A user without a group gets its primary group, or 0 when the
// image does not list it.
func imageUser(user, passwd, group string) (specs.User, error) {
	if user == "" {
		return specs.User{}, nil
	}
	u, g, hasGroup := strings.Cut(user, ":")
	var out specs.User
	uid, err := strconv.ParseUint(u, 10, 32)
	primary := uint32(0)
	if entry, ok := lookupEntry(passwd, u, err == nil); ok {
		id, _ := strconv.ParseUint(entry[2], 10, 32)
		uid = id
		if len(entry) > 3 {
			gid, _ := strconv.ParseUint(entry[3], 10, 32)
			primary = uint32(gid)
		}
	} else if err != nil {
		return out, fmt.Errorf("the image's user %q is not in its /etc/passwd", u)
	}
	out.UID, out.GID = uint32(uid), primary
	if !hasGroup {
		return out, nil
	}
	gid, err := strconv.ParseUint(g, 10, 32)
	if entry, ok := lookupEntry(group, g, err == nil); ok {
		gid, _ = strconv.ParseUint(entry[2], 10, 32)
	} else if err != nil {
		return out, fmt.Errorf("the image's group %q is not in its /etc/group", g)
	}
	out.GID = uint32(gid)
	return out, nil
}

// lookupEntry finds key in a passwd or group file: by name, or by ID (third
// field) when numeric.
func lookupEntry(file, key string, numeric bool) ([]string, bool) {
	sc := bufio.NewScanner(strings.NewReader(file))
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 3 {
			continue
		}
		if fields[0] == key || (numeric && fields[2] == key) {
			return fields, true
		}
	}
	return nil, false
}

// defaultCapabilities are the capabilities docker and containerd give a
// container by default.
var defaultCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// bundleSpec is the OCI runtime configuration of a step's container: its
// command line, environment, working directory and user as a pod's container
// gets them from the step and its image; its own PID, IPC and mount
// namespaces and the host's network (as with docker --network host, the
// host's /etc/resolv.conf and /etc/hosts are bound read-only); the workspace
// at /kubeci and the other mounts. The root file system is the bundle's
// "rootfs" directory.
func bundleSpec(s Step, img v1.Config, user specs.User, mounts []BundleMount) *specs.Spec {
	caps := append([]string(nil), defaultCapabilities...)
	process := &specs.Process{
		User: user,
		Args: stepArgs(s, img),
		Env:  stepEnv(s, img),
		Cwd:  stepWorkDir(s, img),
		Capabilities: &specs.LinuxCapabilities{
			Bounding: caps, Effective: caps, Permitted: caps,
		},
	}
	if user.UID != 0 {
		// As the kubelet does: a non-root user keeps no effective capabilities.
		process.Capabilities.Effective, process.Capabilities.Permitted = nil, nil
	}
	m := []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "none", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/etc/resolv.conf", Type: "bind", Source: "/etc/resolv.conf", Options: []string{"rbind", "ro"}},
		{Destination: "/etc/hosts", Type: "bind", Source: "/etc/hosts", Options: []string{"rbind", "ro"}},
	}
	for _, b := range mounts {
		opts := []string{"rbind", "rw"}
		if b.ReadOnly {
			opts[1] = "ro"
		}
		m = append(m, specs.Mount{Destination: b.Destination, Type: "bind", Source: b.Source, Options: opts})
	}
	return &specs.Spec{
		Version: specs.Version,
		Process: process,
		Root:    &specs.Root{Path: "rootfs"},
		Mounts:  m,
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.MountNamespace},
			},
			MaskedPaths: []string{
				"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
				"/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
			},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
}

// workspaceMount binds the run's workspace at /kubeci.
func workspaceMount(dir string) BundleMount {
	return BundleMount{Source: dir, Destination: kubeciv1.WorkspaceMountPath}
}
