package local

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A step's container runs what a pod's would: commands replace the image's
// entrypoint and command, args replace only the command.
func TestStepProcess(t *testing.T) {
	img := v1.Config{Entrypoint: []string{"/entry"}, Cmd: []string{"default"}, Env: []string{"PATH=/bin", "A=image"}, WorkingDir: "/app"}
	tests := []struct {
		name       string
		step       Step
		img        v1.Config
		args, env  []string
		workingDir string
	}{
		{"commands and args", Step{Command: []string{"sh", "-c"}, Args: []string{"x"}}, img,
			[]string{"sh", "-c", "x"}, []string{"PATH=/bin", "A=image"}, "/app"},
		{"commands alone drop the image's command", Step{Command: []string{"true"}}, img,
			[]string{"true"}, []string{"PATH=/bin", "A=image"}, "/app"},
		{"args alone keep the image's entrypoint", Step{Args: []string{"a", "b"}}, img,
			[]string{"/entry", "a", "b"}, []string{"PATH=/bin", "A=image"}, "/app"},
		{"neither: the image's entrypoint and command", Step{}, img,
			[]string{"/entry", "default"}, []string{"PATH=/bin", "A=image"}, "/app"},
		{"the step's env overrides the image's in place; workingDir wins", Step{Env: []string{"B=1", "A=step"}, WorkingDir: "/kubeci"}, img,
			[]string{"/entry", "default"}, []string{"PATH=/bin", "A=step", "B=1"}, "/kubeci"},
		{"an image without PATH or working directory", Step{Command: []string{"x"}}, v1.Config{},
			[]string{"x"}, []string{defaultPath}, "/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []any{stepArgs(tt.step, tt.img), stepEnv(tt.step, tt.img), stepWorkDir(tt.step, tt.img)}
			if d := cmp.Diff([]any{tt.args, tt.env, tt.workingDir}, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestImageUser(t *testing.T) {
	passwd := "root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\napp:x:1000:1001::/app:/bin/sh\n"
	group := "root:x:0:\nnogroup:x:65534:\nstaff:x:50:\n"
	tests := []struct {
		user    string
		want    specs.User
		wantErr bool
	}{
		{"", specs.User{}, false},
		{"0", specs.User{}, false},
		{"65534", specs.User{UID: 65534, GID: 65534}, false},
		{"1234", specs.User{UID: 1234}, false},
		{"1234:99", specs.User{UID: 1234, GID: 99}, false},
		{"app", specs.User{UID: 1000, GID: 1001}, false},
		{"app:staff", specs.User{UID: 1000, GID: 50}, false},
		{"nobody:nogroup", specs.User{UID: 65534, GID: 65534}, false},
		{"ghost", specs.User{}, true},
		{"app:ghosts", specs.User{}, true},
	}
	for _, tt := range tests {
		got, err := imageUser(tt.user, passwd, group)
		if (err != nil) != tt.wantErr {
			t.Errorf("imageUser(%q) error %v, want error %v", tt.user, err, tt.wantErr)
			continue
		}
		if d := cmp.Diff(tt.want, got); !tt.wantErr && d != "" {
			t.Errorf("imageUser(%q) (-want +got):\n%s", tt.user, d)
		}
	}
}

// The bundle binds the workspace and the extra mounts, shares the host's
// network (no network namespace) and gives a non-root user no effective
// capabilities.
func TestBundleSpec(t *testing.T) {
	s := bundleSpec(Step{Command: []string{"true"}}, v1.Config{}, specs.User{UID: 65534, GID: 65534},
		[]BundleMount{workspaceMount("/ws"), {Source: "/o.json", Destination: TriggerObjectMountPath, ReadOnly: true}})
	var namespaces []specs.LinuxNamespaceType
	for _, n := range s.Linux.Namespaces {
		namespaces = append(namespaces, n.Type)
	}
	binds := map[string][]string{}
	for _, m := range s.Mounts {
		if m.Type == "bind" {
			binds[m.Destination] = append([]string{m.Source}, m.Options...)
		}
	}
	got := []any{namespaces, binds, s.Process.Capabilities.Effective, s.Root.Path}
	want := []any{
		[]specs.LinuxNamespaceType{specs.PIDNamespace, specs.IPCNamespace, specs.MountNamespace},
		map[string][]string{
			"/etc/resolv.conf":     {"/etc/resolv.conf", "rbind", "ro"},
			"/etc/hosts":           {"/etc/hosts", "rbind", "ro"},
			"/kubeci":              {"/ws", "rbind", "rw"},
			TriggerObjectMountPath: {"/o.json", "rbind", "ro"},
		},
		[]string(nil), "rootfs",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestParseImageMap(t *testing.T) {
	m, err := ParseImageMap([]string{"alpine=127.0.0.1:5000/busybox:1", "busybox = mirror/busybox"})
	if err != nil {
		t.Fatal(err)
	}
	got := []string{m.Map("alpine"), m.Map("busybox"), m.Map("alpine:3")}
	if d := cmp.Diff([]string{"127.0.0.1:5000/busybox:1", "mirror/busybox", "alpine:3"}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	for _, bad := range [][]string{{"alpine"}, {"=x"}, {"a=b", "a=c"}} {
		if _, err := ParseImageMap(bad); err == nil {
			t.Errorf("ParseImageMap(%q) gave no error", bad)
		}
	}
}

func TestLeftoverOwner(t *testing.T) {
	type owner struct {
		Kind string
		PID  int
		OK   bool
	}
	tests := map[string]owner{
		"kubeci-run-123-456":  {"run", 123, true},
		"kubeci-oci-9-x":      {"oci", 9, true},
		"kubeci-root-77-1":    {"root", 77, true},
		"kubeci-run-123456":   {"run", 0, true}, // an older kubeci's: no PID
		"kubeci-probe-root-1": {},
		"kubeci-local":        {},
		"something-else-1-2":  {},
	}
	for name, want := range tests {
		kind, pid, ok := leftoverOwner(name)
		if d := cmp.Diff(want, owner{kind, pid, ok}); d != "" {
			t.Errorf("leftoverOwner(%q) (-want +got):\n%s", name, d)
		}
	}
}

func TestPullLine(t *testing.T) {
	tests := []struct {
		got, total int64
		want       string
	}{
		{0, 3_000_000, "pulling alpine [>                             ] 0.0/3.0 MB"},
		{1_500_000, 3_000_000, "pulling alpine [===============>              ] 1.5/3.0 MB"},
		{3_000_000, 3_000_000, "pulling alpine [==============================] 3.0/3.0 MB"},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.want, pullLine("alpine", tt.got, tt.total)); d != "" {
			t.Errorf("pullLine(%d/%d) (-want +got):\n%s", tt.got, tt.total, d)
		}
	}
}

func TestAutoNote(t *testing.T) {
	got := autoNote([]string{
		"docker: the docker command is installed but no engine answers (docker version: Cannot connect): start the engine, or use another --runtime",
		"podman: not installed (no podman command in PATH)",
		`oci: image busybox cannot be pulled (Get "https://index.docker.io/v2/": no such host)`,
	})
	want := "auto: docker: the docker command is installed but no engine answers; podman: not installed; oci: image busybox cannot be pulled"
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
