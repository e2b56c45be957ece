//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/image"
	"github.com/kubeci/kubeci/internal/release"
	"github.com/kubeci/kubeci/test/e2e/cluster"
	"github.com/kubeci/kubeci/test/e2e/images"
)

var (
	installOnce sync.Once
	installErr  error
	kubeci      client.Client
	// installed is the image Kube CI runs from, by digest.
	installed string
)

// installKubeCI installs Kube CI once per test binary exactly as a user does
// from a release: Kube CI's image built as `make image` builds it
// (image.Build) and imported into containerd, by digest, as a node pulling
// it would have it; then `kubectl apply --server-side -f install.yaml` of
// the file `make release` writes (release.Render, the image by digest), and
// `kubectl rollout status`. Nothing is overridden: an image by digest is
// pulled IfNotPresent by default, and the cleanup pods run the same image.
// The operator runs as a pod under its own ServiceAccount and RBAC. The
// image's size and the time from apply to a Ready operator are logged.
func installKubeCI(t *testing.T) (*cluster.Cluster, client.Client) {
	t.Helper()
	cl := cluster.Get(t)
	installOnce.Do(func() { installErr = install(t, cl) })
	if installErr != nil {
		t.Fatalf("installing Kube CI: %v", installErr)
	}
	return cl, kubeci
}

func install(t *testing.T, cl *cluster.Cluster) error {
	ctx := context.Background()
	root, err := cluster.RepoRoot()
	if err != nil {
		return err
	}
	img, err := image.Build(ctx, root, filepath.Join(root, "bin", "e2e-image"), "e2e", images.KubeCI+":e2e")
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	size, err := img.Size()
	if err != nil {
		return err
	}
	installed = images.KubeCI + "@" + digest
	if err := cl.ImportImage(img, img.Name, installed); err != nil {
		return err
	}
	manifest, err := release.Render(filepath.Join(root, "config"), installed, "Kube CI for the end-to-end tests")
	if err != nil {
		return err
	}
	file := filepath.Join(t.TempDir(), "install.yaml")
	if err := os.WriteFile(file, manifest, 0o644); err != nil {
		return err
	}
	start := time.Now()
	if _, err := cl.RunKubectl(ctx, "apply", "--server-side", "-f", file); err != nil {
		return err
	}
	if _, err := cl.RunKubectl(ctx, "-n", release.Namespace, "rollout", "status", "deployment/kubeci-operator", "--timeout=3m"); err != nil {
		logs, _ := cl.RunKubectl(ctx, "-n", release.Namespace, "logs", "deployment/kubeci-operator", "--tail=50")
		return fmt.Errorf("%w\noperator logs:\n%s", err, logs)
	}
	t.Logf("installed Kube CI from install.yaml: image %s, %.1f MiB compressed; apply to Ready in %s",
		installed, float64(size)/(1<<20), time.Since(start).Round(100*time.Millisecond))
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(apiextensionsv1.AddToScheme(scheme))
	utilruntime.Must(kubeciv1.AddToScheme(scheme))
	kubeci, err = client.New(cl.RESTConfig, client.Options{Scheme: scheme})
	return err
}

// The Helm chart, rendered with the installed image, passes a server-side
// dry run against the cluster Kube CI runs in (helm template | kubectl apply
// --dry-run=server), as CI must show.
func TestHelmChartDryRun(t *testing.T) {
	cl, _ := installKubeCI(t)
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewDigest(installed)
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	helm := exec.CommandContext(t.Context(), filepath.Join(root, "bin", "helm"), "template", "kubeci", filepath.Join(root, "charts", "kubeci"),
		"--namespace", release.Namespace, "--include-crds", "--set", "namespace.create=true",
		"--set", "image.repository="+ref.Context().Name(), "--set", "image.digest="+ref.DigestStr())
	helm.Stderr = &stderr
	out, err := helm.Output()
	if err != nil {
		t.Fatalf("helm template (bin/helm: hack/build-helm.sh builds it): %v: %s", err, stderr.String())
	}
	file := filepath.Join(t.TempDir(), "chart.yaml")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := cl.RunKubectl(t.Context(), "apply", "--server-side", "--dry-run=server", "-f", file)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kubectl apply --dry-run=server of the chart:\n%s", got)
}
