package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Commands are the packages Kube CI's image holds, the first its
// entrypoint: the operator, and the kubeci CLI (whose subcommands can run
// in the cluster from the same image).
var Commands = []string{"./cmd/kubeci-operator", "./cmd/kubeci"}

// versionVar is the variable the build's version is written into.
const versionVar = "github.com/kubeci/kubeci/internal/version.Version"

// Build builds Kube CI's image from the checkout at root: Commands built
// with GoBuild into outDir, stamped with version, then FromBinaries under
// imageName. The same source and version give the same image digest.
func Build(ctx context.Context, root, outDir, version, imageName string) (*Image, error) {
	var bins []string
	for _, pkg := range Commands {
		bin := filepath.Join(outDir, filepath.Base(pkg))
		if err := GoBuild(ctx, root, bin, pkg, "-X "+versionVar+"="+version); err != nil {
			return nil, err
		}
		bins = append(bins, bin)
	}
	return FromBinaries(imageName, bins...)
}

// GoBuild builds a package of the module at root (such as ./cmd/kubeci) as a
// reproducible static Linux binary: CGO_ENABLED=0, -trimpath, no VCS stamp,
// an empty build ID, symbols stripped, plus ldflags. It builds for this
// machine's architecture.
func GoBuild(ctx context.Context, root, out, pkg, ldflags string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	args := []string{"build", "-trimpath", "-buildvcs=false",
		"-ldflags", strings.TrimSpace("-s -w -buildid= " + ldflags), "-o", out, pkg}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}
