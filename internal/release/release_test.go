package release

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

const (
	configDir = "../../config"
	chartDir  = "../../charts/kubeci"
	digest    = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

// objects decodes a YAML stream into its objects, by "Kind namespace/name".
func objects(t *testing.T, data []byte) map[string]*unstructured.Unstructured {
	t.Helper()
	out := map[string]*unstructured.Unstructured{}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decoding: %v", err)
		}
		if m == nil {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		out[fmt.Sprintf("%s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())] = u
	}
}

// kinds lists the objects' kinds in the stream's order.
func kinds(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var u unstructured.Unstructured
		if err := dec.Decode(&u.Object); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		if u.Object != nil {
			out = append(out, u.GetKind())
		}
	}
}

func TestRenderSetsTheImageForOperatorAndCleanup(t *testing.T) {
	image := "registry.example.com/kubeci@" + digest
	data, err := Render(configDir, image, "Kube CI test\nsecond line")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("# Kube CI test\n# second line\n")) {
		t.Errorf("header missing: %.80q", data)
	}
	objs := objects(t, data)
	dep := objs["Deployment kubeci-system/kubeci-operator"]
	if dep == nil {
		t.Fatalf("no Deployment in %v", cmp.Diff(nil, objs))
	}
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	env := c["env"].([]any)[0].(map[string]any)
	if c["image"] != image || env["name"] != "KUBECI_OPERATOR_IMAGE" || env["value"] != image {
		t.Errorf("image %v, env %v: want both %s", c["image"], env, image)
	}
	got := kinds(t, data)
	if got[0] != "Namespace" || got[1] != "CustomResourceDefinition" {
		t.Errorf("kinds in order %v: want the Namespace, then the CRDs first", got)
	}
	if _, err := Render(configDir, "not an image!", ""); err == nil {
		t.Error("Render accepted an invalid image")
	}
}

// helmBinary is bin/helm (hack/build-helm.sh). Without it the chart tests
// skip, except in CI, which builds it first.
func helmBinary(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs("../../bin/helm")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("bin/helm is missing: CI builds it with hack/build-helm.sh before the tests")
		}
		t.Skip("bin/helm is missing: build it with hack/build-helm.sh")
	}
	return bin
}

func helm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("helm %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// The chart with its default values (plus the Namespace, which `helm install
// --create-namespace` otherwise creates, and a release's digest) renders
// exactly the objects of install.yaml: they cannot drift.
func TestChartRendersWhatInstallYAMLHolds(t *testing.T) {
	chart, err := helm(t, "template", "kubeci", chartDir, "--namespace", Namespace, "--include-crds",
		"--set", "namespace.create=true", "--set", "image.digest="+digest)
	if err != nil {
		t.Fatal(err)
	}
	install, err := Render(configDir, DefaultRepository+"@"+digest, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(objects(t, install), objects(t, chart)); diff != "" {
		t.Errorf("install.yaml (-) and the chart (+) differ; change charts/kubeci/templates to match config/ (or run `make manifests`):\n%s", diff)
	}
}

func TestChartValues(t *testing.T) {
	out, err := helm(t, "template", "kubeci", chartDir, "--namespace", "ci",
		"--set", "replicas=2", "--set", "image.tag=v9.9.9", "--set", "image.pullPolicy=IfNotPresent",
		"--set", "workspaceRoot=/var/lib/kubeci", "--set", "cleanupImage=mirror.example.com/kubeci@"+digest,
		"--set", "gracePeriods.imagePull=1m,gracePeriods.unschedulable=2m,gracePeriods.nodeLost=3m",
		"--set", "resources.requests.cpu=1",
		"--set", "triggerRules[0].apiGroups[0]=apps,triggerRules[0].resources[0]=deployments,triggerRules[0].verbs={list,watch}")
	if err != nil {
		t.Fatal(err)
	}
	objs := objects(t, out)
	dep := objs["Deployment ci/kubeci-operator"]
	if dep == nil {
		t.Fatalf("no Deployment in namespace ci")
	}
	if r, _, _ := unstructured.NestedFieldNoCopy(dep.Object, "spec", "replicas"); fmt.Sprint(r) != "2" {
		t.Errorf("replicas %v, want 2", r)
	}
	containers, _, _ := unstructured.NestedSlice(dep.Object, "spec", "template", "spec", "containers")
	c := containers[0].(map[string]any)
	wantArgs := []any{"--leader-elect", "--health-probe-bind-address=:8081", "--metrics-bind-address=:8080",
		"--workspace-root=/var/lib/kubeci", "--cleanup-image=mirror.example.com/kubeci@" + digest,
		"--image-pull-grace-period=1m", "--unschedulable-grace-period=2m", "--node-lost-grace-period=3m"}
	if diff := cmp.Diff(wantArgs, c["args"]); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	if c["image"] != DefaultRepository+":v9.9.9" || c["imagePullPolicy"] != "IfNotPresent" {
		t.Errorf("image %v, pull policy %v", c["image"], c["imagePullPolicy"])
	}
	if cpu, _, _ := unstructured.NestedFieldNoCopy(c, "resources", "requests", "cpu"); fmt.Sprint(cpu) != "1" {
		t.Errorf("cpu request %v, want 1", cpu)
	}
	role := objs["ClusterRole /kubeci-operator-triggers-kubeci"]
	if role == nil || role.GetLabels()["kube.ci/aggregate-to-operator-triggers"] != "true" {
		t.Fatalf("no aggregated trigger ClusterRole: %v", role)
	}
	if _, ok := objs["Namespace /ci"]; ok {
		t.Error("a Namespace was rendered although namespace.create is false")
	}
	if _, err := helm(t, "template", "kubeci", chartDir, "--set", "replicas=2", "--set", "leaderElect=false"); err == nil ||
		!strings.Contains(err.Error(), "leaderElect") {
		t.Errorf("replicas=2 without leader election: %v, want a refusal", err)
	}
}

func TestChartLints(t *testing.T) {
	if out, err := helm(t, "lint", chartDir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// A release's chart has the release's version and image as its defaults.
func TestReleaseChart(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "kubeci")
	ref, err := name.NewDigest("registry.example.com/kubeci@" + digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := ReleaseChart(chartDir, dst, "1.2.3", "v1.2.3", ref); err != nil {
		t.Fatal(err)
	}
	chart, _ := os.ReadFile(filepath.Join(dst, "Chart.yaml"))
	values, _ := os.ReadFile(filepath.Join(dst, "values.yaml"))
	for _, want := range []string{"version: 1.2.3", "appVersion: v1.2.3"} {
		if !strings.Contains(string(chart), want) {
			t.Errorf("Chart.yaml lacks %q:\n%s", want, chart)
		}
	}
	for _, want := range []string{"repository: registry.example.com/kubeci", `digest: "` + digest + `"`, "# digest pins the image"} {
		if !strings.Contains(string(values), want) {
			t.Errorf("values.yaml lacks %q:\n%s", want, values)
		}
	}
	if err := ReleaseChart(chartDir, dst, "abc1234-dirty", "abc1234-dirty", ref); err != nil {
		t.Fatal(err)
	}
	chart, _ = os.ReadFile(filepath.Join(dst, "Chart.yaml"))
	if !strings.Contains(string(chart), "version: 0.0.0-abc1234-dirty") {
		t.Errorf("a non-SemVer version was not made one:\n%s", chart)
	}
}
