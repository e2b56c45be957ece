package config

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// config/dashboard builds into a ServiceAccount, a Deployment running the
// dashboard in token mode and a Service; no manifest of Kube CI grants the
// dashboard's ServiceAccount any right, as it acts only as its viewers.
func TestDashboardHasNoRightsOfItsOwn(t *testing.T) {
	kinds := map[string]int{}
	for _, obj := range build(t, "dashboard") {
		kinds[obj.GetKind()]++
		if obj.GetKind() == "Deployment" {
			args, _, _ := unstructuredArgs(obj.Object)
			if diff := cmp.Diff([]any{"dashboard", "--auth=token", "--address=0.0.0.0", "--port=8080"}, args); diff != "" {
				t.Errorf("dashboard args (-want +got):\n%s", diff)
			}
		}
	}
	if diff := cmp.Diff(map[string]int{"ServiceAccount": 1, "Deployment": 1, "Service": 1}, kinds); diff != "" {
		t.Errorf("config/dashboard (-want +got):\n%s", diff)
	}
	for _, dir := range []string{"default", "dashboard"} {
		for _, obj := range build(t, dir) {
			if k := obj.GetKind(); k != "RoleBinding" && k != "ClusterRoleBinding" {
				continue
			}
			subjects, _ := obj.Object["subjects"].([]any)
			for _, s := range subjects {
				if m, _ := s.(map[string]any); m["name"] == "kubeci-dashboard" {
					t.Errorf("%s %s grants the dashboard's ServiceAccount rights", obj.GetKind(), obj.GetName())
				}
			}
		}
	}
}

// unstructuredArgs reads the first container's args of a Deployment.
func unstructuredArgs(obj map[string]any) ([]any, bool, error) {
	spec, _ := obj["spec"].(map[string]any)
	tmpl, _ := spec["template"].(map[string]any)
	pod, _ := tmpl["spec"].(map[string]any)
	containers, _ := pod["containers"].([]any)
	if len(containers) == 0 {
		return nil, false, nil
	}
	c, _ := containers[0].(map[string]any)
	args, ok := c["args"].([]any)
	return args, ok, nil
}
