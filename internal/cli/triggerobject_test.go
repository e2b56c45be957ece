package cli

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

func TestWatchedFields(t *testing.T) {
	repo := &unstructured.Unstructured{}
	repo.SetAPIVersion("source.toolkit.fluxcd.io/v1")
	repo.SetKind("GitRepository")
	triggers := []kubeciv1.Trigger{
		{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", FieldPaths: []string{"status.artifact.revision", "status.artifact.url"}},
		{APIVersion: "source.toolkit.fluxcd.io/v1", Resource: "gitrepositories", FieldPaths: []string{"status.artifact.revision", "status.artifact.digest"}},
		{APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "OCIRepository", FieldPaths: []string{"status.artifact.metadata"}},
		{APIVersion: "v1", Kind: "ConfigMap", FieldPaths: []string{"data.version"}},
	}
	want := []string{"status.artifact.revision", "status.artifact.url", "status.artifact.digest"}
	if diff := cmp.Diff(want, watchedFields(triggers, repo)); diff != "" {
		t.Errorf("the fields of the triggers on GitRepositories (-want +got):\n%s", diff)
	}
}
