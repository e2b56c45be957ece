//go:build linux

package local

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/test/e2e/images"
)

// testRegistry serves, on loopback, the e2e suite's busybox image (built from
// Debian's busybox-static) as REGISTRY/busybox:1, and the same image run as
// user nobody (65534) as REGISTRY/busybox:nobody. It returns the registry's
// host:port.
func testRegistry(t *testing.T) string {
	t.Helper()
	bb, err := images.NewBusybox(images.DefaultBusyboxPath)
	if err != nil {
		failOrSkipInCI(t, "no busybox image: %v (apt-get install busybox-static)", err)
	}
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	push(t, host+"/busybox:1", bb.Image)
	cf, err := bb.Image.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config.User = "65534:65534"
	nobody, err := mutate.ConfigFile(bb.Image, cf)
	if err != nil {
		t.Fatal(err)
	}
	push(t, host+"/busybox:nobody", nobody)
	return host
}

func push(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	tag, err := name.NewTag(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
}

// failOrSkipInCI fails in CI (env CI set), where runc and busybox-static are
// installed and the oci runtime must work, and skips elsewhere.
func failOrSkipInCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI: "+format, args...)
	}
	t.Skipf(format, args...)
}

// ociRuntime returns an oci runtime that re-executes this test binary and
// caches images under a directory of the test.
func ociRuntime(t *testing.T, cacheDir string) *OCI {
	t.Helper()
	o := &OCI{Self: []string{"/proc/self/exe"}, Grace: 2 * time.Second, Images: &ImageCache{Dir: cacheDir}}
	if err := o.Available(context.Background()); err != nil {
		failOrSkipInCI(t, "the oci runtime cannot work here: %v", err)
	}
	return o
}

func runOCI(t *testing.T, o *OCI, wf *kubeciv1.Workflow, c Config) hostRun {
	t.Helper()
	var out, errOut bytes.Buffer
	c.Runtime = o
	c.Printer = NewPrinter(&out, &errOut, false, false)
	res, err := Run(context.Background(), wf, c)
	if err != nil {
		t.Fatalf("Run: %v\n%s%s", err, out.String(), errOut.String())
	}
	return hostRun{res: res, out: out.String(), errOut: errOut.String()}
}

// TestOCIDesignDocExample runs the design doc's example in the busybox image
// pulled from a registry, as root and as user nobody (the image's User), and
// checks that step-5 sees what the others wrote to the workspace.
func TestOCIDesignDocExample(t *testing.T) {
	host := testRegistry(t)
	for _, tag := range []string{"1", "nobody"} {
		t.Run(tag, func(t *testing.T) {
			o := ociRuntime(t, t.TempDir())
			wf := loadExample(t, "design-doc.yaml")
			wf.Spec.Steps[0].Args = []string{"-c", "touch /kubeci/file-1; id -u > /kubeci/uid"}
			ws := t.TempDir()
			os.Chmod(ws, 0o777)
			r := runOCI(t, o, wf, Config{Images: ImageMap{"busybox": host + "/busybox:" + tag}, WorkspaceDir: ws})
			if rootless() && tag == "nobody" {
				// Rootless, only kubeci's own user is mapped: it is the
				// containers' root, and other users are refused.
				if s := stepResult(t, r.res, "step-1"); s.Outcome != Failed || !strings.Contains(s.Message, "a rootless kubeci can only run containers as root") {
					t.Errorf("step-1 %s (%s), want a refusal of the image's user", s.Outcome, s.Message)
				}
				return
			}
			if r.res.Outcome != Succeeded {
				t.Fatalf("run %s, want Succeeded\n%s%s", r.res.Outcome, r.out, r.errOut)
			}
			for _, f := range []string{"step-5", "file-1", "file-2", "file-3", "file-4"} {
				if !strings.Contains(r.out, "step-5 | "+f+"\n") {
					t.Errorf("step-5's output lacks %q:\n%s", f, r.out)
				}
			}
			uid, _ := os.ReadFile(filepath.Join(ws, "uid"))
			want := map[string]string{"1": "0", "nobody": "65534"}[tag]
			if strings.TrimSpace(string(uid)) != want {
				t.Errorf("step-1 ran as uid %q, want %s (the image's user)", uid, want)
			}
		})
	}
}

// TestOCIStepsDoNotShareRoot checks that a step's writes to its root stay its
// own: the next step, in the same image, does not see them, and the cached
// image is untouched.
func TestOCIStepsDoNotShareRoot(t *testing.T) {
	host := testRegistry(t)
	cache := t.TempDir()
	o := ociRuntime(t, cache)
	wf := shWorkflow("roots", map[string]string{
		"write": "echo changed > /etc/passwd && touch /etc/probe && rm /bin/ls",
		"check": `test ! -e /etc/probe && test -e /bin/ls && grep -q root /etc/passwd && echo "$KUBECI_STEP ok in $(pwd)"`,
	}, map[string][]string{"check": {"write"}}, "write", "check")
	r := runOCI(t, o, wf, Config{Images: ImageMap{"busybox": host + "/busybox:1"}})
	if r.res.Outcome != Succeeded {
		t.Fatalf("run %s, want Succeeded\n%s%s", r.res.Outcome, r.out, r.errOut)
	}
	if !strings.Contains(r.out, "check | check ok in /\n") {
		t.Errorf("check's output lacks its line:\n%s", r.out)
	}
	matches, _ := filepath.Glob(filepath.Join(cache, "sha256-*", "rootfs", "etc", "probe"))
	if len(matches) > 0 {
		t.Errorf("a step's write reached the image cache: %v", matches)
	}
}

// TestOCIStop checks that a step past its timeout is stopped and its
// container deleted.
func TestOCIStop(t *testing.T) {
	host := testRegistry(t)
	o := ociRuntime(t, t.TempDir())
	wf := shWorkflow("slow", map[string]string{"sleep": "sleep 60"}, nil, "sleep")
	start := time.Now()
	r := runOCI(t, o, wf, Config{Images: ImageMap{"busybox": host + "/busybox:1"}, StepTimeout: time.Second})
	if got := stepResult(t, r.res, "sleep").Outcome; got != TimedOut {
		t.Fatalf("step %s, want TimedOut\n%s%s", got, r.out, r.errOut)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the run took %s to stop a step", d)
	}
	if _, err := os.Stat(o.dir); err == nil {
		t.Errorf("the run's directory %s (bundles, runc state) is still there", o.dir)
	}
}

// Containers see the trigger object at /kubeci-trigger/object.json,
// read-only.
func TestOCITriggerObject(t *testing.T) {
	host := testRegistry(t)
	o := ociRuntime(t, t.TempDir())
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "my-config"}, "data": map[string]any{"a": "b"},
	}}
	wf := shWorkflow("trig", map[string]string{
		"show": `echo "$KUBECI_TRIGGER_OBJECT $KUBECI_TRIGGER_NAME"; cat "$KUBECI_TRIGGER_OBJECT"; echo; echo x > "$KUBECI_TRIGGER_OBJECT" || echo read-only`,
	}, nil, "show")
	r := runOCI(t, o, wf, Config{Images: ImageMap{"busybox": host + "/busybox:1"}, Trigger: &TriggerObject{Object: obj}})
	if r.res.Outcome != Succeeded {
		t.Fatalf("run %s\n%s%s", r.res.Outcome, r.out, r.errOut)
	}
	for _, want := range []string{
		"show | /kubeci-trigger/object.json my-config\n",
		`show | {"apiVersion":"v1","data":{"a":"b"},"kind":"ConfigMap","metadata":{"name":"my-config"}}` + "\n",
		"show | read-only\n",
	} {
		if !strings.Contains(r.out+r.errOut, want) {
			t.Errorf("output lacks %q:\n%s%s", want, r.out, r.errOut)
		}
	}
}

// As root, the oci tests also run as an unprivileged user (nobody, 65534),
// rootless: runc in a user namespace where that user is root.
func TestOCIRootless(t *testing.T) {
	if os.Geteuid() != 0 || os.Getenv("KUBECI_TEST_ROOTLESS") != "" {
		t.Skip("run as root, this test runs the oci tests as nobody")
	}
	if _, err := exec.LookPath("runc"); err != nil {
		failOrSkipInCI(t, "no runc: %v", err)
	}
	// The test binary, where nobody may run it.
	bin := filepath.Join(t.TempDir(), "local.test")
	data, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Dir(bin), 0o755)
	os.Chmod(filepath.Dir(filepath.Dir(bin)), 0o755) // t.TempDir()'s parent
	home := t.TempDir()
	os.Chmod(home, 0o777)
	cmd := exec.Command(bin, "-test.run", "^(TestOCIDesignDocExample|TestOCIStepsDoNotShareRoot|TestOCITriggerObject)$", "-test.v")
	cmd.Env = append(os.Environ(), "KUBECI_TEST_ROOTLESS=1", "HOME="+home, "XDG_CACHE_HOME="+home, "TMPDIR="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestOCIDesignDocExample/1") {
		t.Fatalf("the oci tests as nobody: %v\n%s", err, out)
	}
	t.Logf("as nobody:\n%s", out)
}
