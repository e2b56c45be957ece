//go:build e2e

package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/test/e2e/images"
)

// commit is one "commit" of the tiny project the test builds: its revision
// and the test script's exit code.
type commit struct {
	revision string
	exitCode int
}

// CI on every commit, end to end: a Flux GitRepository's status is set as
// source-controller sets it (revision, url, digest) with the artifact served
// by busybox httpd behind a Service, and the Workflow's steps download the
// artifact, check its digest, unpack it into the workspace and run the
// project's test script. A second commit runs again; its failing test script
// fails the run with its exit code.
func TestCIOnEveryCommitWithFlux(t *testing.T) {
	cl, c := installKubeCI(t)
	installGitRepositoryCRD(t, c)
	ns := workflowNamespace(t, cl, c, "source.toolkit.fluxcd.io", "gitrepositories")

	commits := []commit{{"main@sha1:1111111111111111111111111111111111111111", 0}, {"main@sha1:2222222222222222222222222222222222222222", 7}}
	artifacts := map[string][]byte{}
	for _, cm := range commits {
		artifacts[artifactName(cm.revision)] = projectTarball(t, cm)
	}
	server := serveArtifacts(t, c, ns, artifacts)

	repo := &unstructured.Unstructured{}
	repo.SetAPIVersion("source.toolkit.fluxcd.io/v1")
	repo.SetKind("GitRepository")
	repo.SetNamespace(ns)
	repo.SetName("shop")
	repo.Object["spec"] = map[string]any{"url": "https://git.example.com/shop.git", "interval": "1m"}
	if err := c.Create(t.Context(), repo); err != nil {
		t.Fatal(err)
	}
	wf := fluxWorkflow(ns)
	if err := c.Create(t.Context(), wf); err != nil {
		t.Fatal(err)
	}
	waitWatching(t, c, wf)

	for i, cm := range commits {
		name := artifactName(cm.revision)
		sum := sha256.Sum256(artifacts[name])
		// Creation timestamps have one-second resolution: so has the figure.
		published := time.Now().Truncate(time.Second)
		publishArtifact(t, c, repo, cm.revision, "http://"+server+"/"+name, "sha256:"+hex.EncodeToString(sum[:]))
		run := waitRuns(t, c, ns, wf.Name, i+1)[i]
		if got := run.Spec.Trigger.Fields["status.artifact.revision"]; got != cm.revision {
			t.Errorf("run %s records revision %q, want %q", run.Name, got, cm.revision)
		}
		firstPod := taskPods(t, cl, &run)
		if len(firstPod) > 0 {
			t.Logf("commit %d: status change to the run's first pod: %s (to the end: %s; 1 s resolution)", i+1,
				firstPod[0].CreationTimestamp.Sub(published).Round(time.Second), run.Status.CompletionTime.Sub(published).Round(time.Second))
		}
		fetchLog := stepLog(t, cl, &run, 0, "fetch")
		if !strings.Contains(fetchLog, "building "+cm.revision) || !strings.Contains(fetchLog, "digest ok") {
			t.Errorf("run %s: the fetch step's log must show the revision and the digest check, got:\n%s", run.Name, fetchLog)
		}
		testLog := stepLog(t, cl, &run, 0, "test")
		if !strings.Contains(testLog, "testing "+cm.revision) {
			t.Errorf("run %s: the project's test script must run on the commit, log:\n%s", run.Name, testLog)
		}
		switch {
		case cm.exitCode == 0 && run.Status.Phase != kubeciv1.WorkplanCompleted:
			t.Errorf("run %s of a passing commit: %s (%s)", run.Name, run.Status.Phase, run.Status.Reason)
		case cm.exitCode != 0 && (run.Status.Phase != kubeciv1.WorkplanFailed || !strings.Contains(run.Status.Reason, fmt.Sprint(cm.exitCode))):
			t.Errorf("run %s of a failing commit: want Failed with exit code %d, got %s (%s)", run.Name, cm.exitCode, run.Status.Phase, run.Status.Reason)
		}
	}
}

// fluxWorkflow fetches, checks and unpacks the artifact of the GitRepository
// shop's newest revision, then runs the project's test script.
func fluxWorkflow(ns string) *kubeciv1.Workflow {
	fetch := `set -e
echo "building $KUBECI_FIELD_STATUS_ARTIFACT_REVISION"
wget -q -O /kubeci/source.tar.gz "$KUBECI_FIELD_STATUS_ARTIFACT_URL"
echo "${KUBECI_FIELD_STATUS_ARTIFACT_DIGEST#sha256:}  /kubeci/source.tar.gz" | sha256sum -c -s
echo "digest ok"
mkdir -p /kubeci/src
tar -xzf /kubeci/source.tar.gz -C /kubeci/src
grep -q '"kind":"GitRepository"' "$KUBECI_TRIGGER_OBJECT"`
	return &kubeciv1.Workflow{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shop-ci"},
		Spec: kubeciv1.WorkflowSpec{
			Steps: []kubeciv1.Step{
				{Name: "fetch", Image: images.Busybox, Commands: []string{"sh", "-c", fetch}},
				{Name: "test", Image: images.Busybox, Commands: []string{"sh", "/kubeci/src/test.sh"}, WorkingDir: "/kubeci/src", Dependency: []string{"fetch"}},
			},
			Triggers: []kubeciv1.Trigger{{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", Name: "shop",
				OnAddOrUpdate: true, FieldPaths: []string{"status.artifact.revision", "status.artifact.url", "status.artifact.digest"}}},
		},
	}
}

func artifactName(revision string) string {
	return strings.TrimPrefix(revision[strings.Index(revision, ":")+1:], "sha1:")[:12] + ".tar.gz"
}

// projectTarball is the artifact of one commit of a tiny project, laid out
// as source-controller's tarballs are (files at the root, no .git).
func projectTarball(t *testing.T, cm commit) []byte {
	t.Helper()
	files := map[string]string{
		"README.md": "# shop\n",
		"test.sh":   fmt.Sprintf("echo testing %s\nls\nexit %d\n", cm.revision, cm.exitCode),
	}
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, name := range []string{"README.md", "test.sh"} {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(files[name])), ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(files[name])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// serveArtifacts serves files over HTTP from a busybox httpd pod behind a
// Service, as source-controller serves artifacts, and returns the Service's
// address.
func serveArtifacts(t *testing.T, c client.Client, ns string, files map[string][]byte) string {
	t.Helper()
	labels := map[string]string{"app": "artifacts"}
	objs := []client.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "artifacts"}, BinaryData: files},
		&corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "artifacts", Labels: labels},
			Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "httpd", Image: images.Busybox, ImagePullPolicy: corev1.PullNever,
					Command:      []string{"httpd", "-f", "-p", "8080", "-h", "/www"},
					VolumeMounts: []corev1.VolumeMount{{Name: "www", MountPath: "/www"}},
					ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}},
						PeriodSeconds: 1}}},
				Volumes: []corev1.Volume{{Name: "www", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "artifacts"}}}}},
			},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "artifacts"},
			Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
		},
	}
	for _, obj := range objs {
		if err := c.Create(t.Context(), obj); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, "the artifact server to be ready", runTimeout, func() error {
		pod := &corev1.Pod{}
		if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "artifacts"}, pod); err != nil {
			return err
		}
		if !podReady(pod) {
			return fmt.Errorf("pod phase %s", pod.Status.Phase)
		}
		return nil
	})
	svc := &corev1.Service{}
	if err := c.Get(t.Context(), client.ObjectKey{Namespace: ns, Name: "artifacts"}, svc); err != nil {
		t.Fatal(err)
	}
	return svc.Spec.ClusterIP
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// publishArtifact sets repo's status as source-controller does when it has
// fetched a new commit: the artifact and a Ready condition.
func publishArtifact(t *testing.T, c client.Client, repo *unstructured.Unstructured, revision, url, digest string) {
	t.Helper()
	if err := c.Get(t.Context(), client.ObjectKeyFromObject(repo), repo); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	repo.Object["status"] = map[string]any{
		"observedGeneration": repo.GetGeneration(),
		"artifact": map[string]any{"path": "gitrepository/" + repo.GetNamespace() + "/shop/" + artifactName(revision),
			"url": url, "revision": revision, "digest": digest, "lastUpdateTime": now},
		"conditions": []any{map[string]any{"type": "Ready", "status": "True", "reason": "Succeeded",
			"message": "stored artifact for revision '" + revision + "'", "lastTransitionTime": now}},
	}
	if err := c.Status().Update(t.Context(), repo); err != nil {
		t.Fatal(err)
	}
}

// installGitRepositoryCRD installs the tests' stand-in for Flux's
// GitRepository CRD, and lets the operator watch GitRepositories through its
// aggregated triggers role.
func installGitRepositoryCRD(t *testing.T, c client.Client) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "flux", "gitrepository-crd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	crd := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(data, crd); err != nil {
		t.Fatal(err)
	}
	grant := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeci-triggers-e2e-gitrepositories", Labels: map[string]string{"kube.ci/aggregate-to-operator-triggers": "true"}},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"source.toolkit.fluxcd.io"}, Resources: []string{"gitrepositories"}, Verbs: []string{"list", "watch"}}},
	}
	for _, obj := range []client.Object{crd, grant} {
		if err := c.Create(t.Context(), obj); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Delete(t.Context(), obj) })
	}
	poll(t, "the GitRepository CRD to be served", runTimeout, func() error {
		got := &apiextensionsv1.CustomResourceDefinition{}
		if err := c.Get(t.Context(), client.ObjectKeyFromObject(crd), got); err != nil {
			return err
		}
		for _, cond := range got.Status.Conditions {
			if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("not established yet")
	})
}
