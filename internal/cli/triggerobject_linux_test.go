//go:build linux

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kubeci run --trigger-object gives the steps the fields the Workflow's
// triggers watch, as a run on the cluster gets them, without --field.
func TestRunTriggerObjectUsesTheTriggersFields(t *testing.T) {
	dir := t.TempDir()
	wf := filepath.Join(dir, "wf.yaml")
	obj := filepath.Join(dir, "repo.yaml")
	write := func(path, text string) {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(wf, `apiVersion: kube.ci/v1alpha1
kind: Workflow
metadata: {name: ci, namespace: default}
spec:
  steps:
  - {name: show, image: busybox, commands: [sh, -c, 'echo "rev=$KUBECI_FIELD_STATUS_ARTIFACT_REVISION"']}
  triggers:
  - {apiVersion: source.toolkit.fluxcd.io/v1, kind: GitRepository, name: shop, onAddOrUpdate: true, fieldPaths: [status.artifact.revision]}
`)
	write(obj, `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: shop, namespace: default}
status: {artifact: {revision: "main@sha1:abc123"}}
`)
	out, err := kubeciProcess(t, t.TempDir(), "run", "-f", wf, "--runtime", "host", "--trigger-object", obj).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "show | rev=main@sha1:abc123") {
		t.Errorf("%v; want the step to print the revision; output:\n%s", err, out)
	}
}
