package local

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A step runs the way a pod runs its container: commands replace the image's
// entrypoint (and its default arguments), args replace the default arguments.
func TestContainerArgs(t *testing.T) {
	base := []string{"run", "--rm", "--name", "kubeci-abc-s", "--label", "kube.ci/local-run=abc",
		"--mount", "type=bind,source=/ws,target=/kubeci"}
	cases := []struct {
		name   string
		step   Step
		mounts []BundleMount
		want   []string
	}{{
		name: "commands and args",
		step: Step{Name: "s", Image: "busybox", Command: []string{"sh", "-c"}, Args: []string{"echo hi"}, Env: []string{"A=1", "B=x y"}},
		want: append(append([]string(nil), base...), "--env", "A=1", "--env", "B=x y", "--entrypoint", "sh", "busybox", "-c", "echo hi"),
	}, {
		name: "args only keep the image's entrypoint",
		step: Step{Name: "s", Image: "alpine:3", Args: []string{"ls", "/"}, WorkingDir: "/kubeci/src"},
		want: append(append([]string(nil), base...), "--workdir", "/kubeci/src", "alpine:3", "ls", "/"),
	}, {
		name: "commands only drop the image's default arguments",
		step: Step{Name: "s", Image: "busybox", Command: []string{"true"}},
		want: append(append([]string(nil), base...), "--entrypoint", "true", "busybox"),
	}, {
		name:   "the trigger object, read-only",
		step:   Step{Name: "s", Image: "busybox", Command: []string{"true"}},
		mounts: []BundleMount{{Source: "/tmp/o.json", Destination: TriggerObjectMountPath, ReadOnly: true}},
		want: append(append([]string(nil), base...), "--mount", "type=bind,source=/tmp/o.json,target=/kubeci-trigger/object.json,readonly",
			"--entrypoint", "true", "busybox"),
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, containerArgs("abc", "/ws", tc.mounts, tc.step)); diff != "" {
				t.Errorf("arguments (-want +got):\n%s", diff)
			}
		})
	}
}

func TestContainerRefusesCommaInWorkspace(t *testing.T) {
	c := &Container{Engine: RuntimeDocker}
	if _, err := c.Prepare(context.Background(), RunInfo{ID: "x", Workspace: "/tmp/a,b"}); err == nil || !strings.Contains(err.Error(), "comma") {
		t.Errorf("error %v, want a refusal of the comma", err)
	}
}

// An engine's command without a working engine is refused, saying why and
// what to do.
func TestContainerUnavailable(t *testing.T) {
	for _, engine := range []string{RuntimeDocker, RuntimePodman} {
		c := &Container{Engine: engine}
		err := c.Available(context.Background())
		if err == nil {
			continue // an engine answers here: TestContainerRuns covers it
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, engine+": ") || !(strings.Contains(msg, "not installed") || strings.Contains(msg, "no engine answers")) {
			t.Errorf("%s: %q does not say why it cannot work", engine, msg)
		}
		if _, lookErr := exec.LookPath(engine); lookErr == nil && !strings.Contains(msg, "another --runtime") {
			t.Errorf("%s: %q does not say what to do", engine, msg)
		}
	}
}

// With a working docker or podman engine, the design doc's example runs in
// containers, twice at once without their names colliding, and no container
// is left. The image is busybox, or $KUBECI_TEST_IMAGE (any image with sh,
// touch, ls and echo).
func TestContainerRuns(t *testing.T) {
	var engines []*Container
	for _, engine := range []string{RuntimeDocker, RuntimePodman} {
		c := &Container{Engine: engine, Grace: 2 * time.Second}
		if err := c.Available(context.Background()); err != nil {
			t.Logf("not testing %s: %v", engine, err)
			continue
		}
		engines = append(engines, c)
	}
	if len(engines) == 0 {
		t.Skip("no docker or podman engine answers on this machine: the container runtimes are tested where one does")
	}
	image := os.Getenv("KUBECI_TEST_IMAGE")
	if image == "" {
		image = "busybox"
	}
	for _, engine := range engines {
		t.Run(engine.Engine, func(t *testing.T) {
			if exec.Command(engine.Engine, "image", "inspect", image).Run() != nil {
				if out, err := exec.Command(engine.Engine, "pull", image).CombinedOutput(); err != nil {
					t.Skipf("%s answers but has no image %s and cannot pull it (%v: %s): set KUBECI_TEST_IMAGE to a local image with sh", engine.Engine, image, err, out)
				}
			}
			wf := loadExample(t, "design-doc.yaml")
			for i := range wf.Spec.Steps {
				wf.Spec.Steps[i].Image = image
			}
			var wg sync.WaitGroup
			results := make([]*Result, 2)
			outs := make([]bytes.Buffer, 2)
			for i := range results {
				wg.Go(func() {
					c := &Container{Engine: engine.Engine, Grace: engine.Grace}
					res, err := Run(context.Background(), wf, Config{Runtime: c, Printer: NewPrinter(&outs[i], &outs[i], false, false)})
					if err != nil {
						t.Errorf("run %d: %v", i, err)
						return
					}
					results[i] = res
				})
			}
			wg.Wait()
			for i, res := range results {
				if res == nil {
					continue
				}
				if res.Outcome != Succeeded || !strings.Contains(outs[i].String(), "step-5 | file-4") {
					t.Errorf("run %d %s:\n%s", i, res.Outcome, outs[i].String())
				}
			}
			out, err := exec.Command(engine.Engine, "ps", "--all", "--quiet", "--filter", "label="+LabelLocalRun).Output()
			if err != nil || strings.TrimSpace(string(out)) != "" {
				t.Errorf("containers left behind: %q (%v)", out, err)
			}
		})
	}
}
