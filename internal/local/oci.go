package local

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// OCIStepCommand is the hidden argument with which the oci runtime
// re-executes this program (RuntimeOptions.Self) to mount a step's root file
// system in a mount namespace of its own, then run runc there; the program
// must then call OCIStepMain with the arguments that follow it.
const OCIStepCommand = "__oci-step"

// OCI runs each step in a container of its image without a container engine:
// images are pulled into an on-disk cache (ImageCache), each step gets a fresh
// copy-on-write root over its image's unpacked files (an overlay whose upper
// layer is removed with the step), and runc runs the OCI bundle kubeci writes
// for the step. It needs Linux and a runc (or crun) command; without root it
// runs rootless (see OCI.helper).
type OCI struct {
	// Self re-executes this program into OCIStepMain (see RuntimeOptions).
	Self []string
	// Grace is how long a stopped step has between SIGTERM and SIGKILL.
	Grace time.Duration
	// Runc is the OCI runtime command; empty means runc, else crun, from PATH.
	Runc string
	// Images pulls and caches the images.
	Images *ImageCache
	// Progress, when set, shows each pull.
	Progress func(ref string) PullProgress

	runID, workspace string
	mounts           []BundleMount
	// dir is the run's temporary directory: runc's state under state/, each
	// step's bundle and overlay layers under steps/STEP.
	dir    string
	images map[string]*Image
}

// Name is "oci".
func (o *OCI) Name() string { return RuntimeOCI }

// runc is the OCI runtime command to use.
func (o *OCI) runc() string {
	if o.Runc == "" {
		return "runc"
	}
	return o.Runc
}

// Prepare pulls every step's image (or finds it in the cache) and makes the
// run's temporary directory.
func (o *OCI) Prepare(ctx context.Context, run RunInfo) ([]string, error) {
	o.runID, o.workspace, o.mounts = run.ID, run.Workspace, run.Mounts
	o.images = map[string]*Image{}
	var refs []string
	for _, s := range run.Steps {
		if !slices.Contains(refs, s.Image) {
			refs = append(refs, s.Image)
		}
	}
	for _, ref := range refs {
		var progress PullProgress
		if o.Progress != nil {
			progress = o.Progress(ref)
		}
		img, err := o.Images.Get(ctx, ref, progress)
		if err != nil {
			return nil, fmt.Errorf("oci runtime: %w", err)
		}
		o.images[ref] = img
	}
	dir, err := makeRunTemp("oci")
	if err != nil {
		return nil, fmt.Errorf("oci runtime: cannot make a temporary directory: %w", err)
	}
	o.dir = dir
	return nil, nil
}

// Cleanup removes the run's containers that are still there (normally none)
// and its temporary directory.
func (o *OCI) Cleanup() error {
	if o.dir == "" {
		return nil
	}
	return removeOCIDir(o.runc(), o.dir)
}

// removeOCIDir deletes the containers runc still knows under dir/state,
// then dir itself.
func removeOCIDir(runc, dir string) error {
	state := filepath.Join(dir, "state")
	entries, _ := os.ReadDir(state)
	for _, e := range entries {
		ctx, cancel := context.WithTimeout(context.Background(), engineTimeout)
		_ = exec.CommandContext(ctx, runc, "--root", state, "delete", "--force", e.Name()).Run()
		cancel()
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("oci runtime: cannot remove %s: %w", dir, err)
	}
	return nil
}

// stepBundle writes the bundle of step s under the run's directory: the
// configuration (config.json) and the directories the step's root is mounted
// from (the image's files, read-only below an upper layer of its own).
func (o *OCI) stepBundle(s Step) (bundle string, err error) {
	img := o.images[s.Image]
	if img == nil {
		return "", fmt.Errorf("image %s was not pulled", s.Image)
	}
	passwd, _ := os.ReadFile(filepath.Join(img.Rootfs, "etc", "passwd"))
	group, _ := os.ReadFile(filepath.Join(img.Rootfs, "etc", "group"))
	user, err := imageUser(img.Config.User, string(passwd), string(group))
	if err != nil {
		return "", fmt.Errorf("image %s: %w", s.Image, err)
	}
	if rootless() && (user.UID != 0 || user.GID != 0) {
		return "", fmt.Errorf("image %s runs as user %q, and a rootless kubeci can only run containers as root (its own user): "+
			"run kubeci as root, or use --runtime docker or podman", s.Image, img.Config.User)
	}
	if len(stepArgs(s, img.Config)) == 0 {
		return "", fmt.Errorf("step %s has no commands and its image %s has no entrypoint or command", s.Name, s.Image)
	}
	bundle = filepath.Join(o.dir, "steps", s.Name)
	for _, d := range []string{"rootfs", "upper", "work"} {
		if err := os.MkdirAll(filepath.Join(bundle, d), 0o755); err != nil {
			return "", err
		}
	}
	mounts := append([]BundleMount{workspaceMount(o.workspace)}, o.mounts...)
	spec := bundleSpec(s, img.Config, user, mounts)
	if rootless() {
		// runc runs in a user namespace where kubeci's user is root (see
		// OCI.helper): the container's root is that root.
		spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}}
		spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}}
	}
	data, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return "", err
	}
	return bundle, os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644)
}

// containerID is a step's container ID for runc: unique to the run.
func (o *OCI) containerID(step string) string {
	return containerName(o.runID, step)
}

// ociHelperArgs is the command line of an oci step after Self.
func ociHelperArgs(lower, bundle string, runc []string) []string {
	args := []string{OCIStepCommand, "--lower", lower, "--bundle", bundle}
	return append(append(args, "--"), runc...)
}
