package workflow

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/testenv"
)

// The operator runs with nothing but the generated RBAC role: it serves a
// ConfigMap trigger, and reports WatchFailed for a kind it was not granted
// (Secrets) instead of failing silently.
func TestOperatorWorksWithItsGeneratedRole(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	cfg := operatorConfig(t, env, ns)

	grantWatch(t, env, ns, "", "configmaps", "secrets") // the Workflows' ServiceAccount may read both
	cms := workflowWith(ns, "configmaps", kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true})
	secrets := workflowWith(ns, "secrets", kubeciv1.Trigger{APIVersion: "v1", Kind: "Secret", OnAddOrUpdate: true})
	create(t, env, cms)
	create(t, env, secrets)

	startOperatorWith(t, env, cfg, ns)

	waitReady(t, env, cms, metav1.ConditionTrue, kubeciv1.ReasonWatching)
	create(t, env, configMap(ns, "c", nil, "1"))
	waitWorkplans(t, env, ns, cms.Name, 1)

	got := waitReady(t, env, secrets, metav1.ConditionFalse, kubeciv1.ReasonWatchFailed)
	if msg := got.Status.Conditions[0].Message; !strings.Contains(msg, "the operator cannot list and watch secrets/v1 in namespace "+ns) ||
		!strings.Contains(msg, "forbidden") {
		t.Errorf("unexpected message: %s", msg)
	}
}

// operatorConfig reaches the API server as a user granted the generated RBAC
// role of the operator, and nothing else, until the test ends.
func operatorConfig(t *testing.T, env *testenv.Env, ns string) *rest.Config {
	t.Helper()
	ctx := context.Background()
	data, err := os.ReadFile(filepath.Join(env.Root, "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(data, role); err != nil {
		t.Fatal(err)
	}
	role.Name = "kubeci-operator-" + ns
	user := "system:serviceaccount:" + ns + ":operator"
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: user}},
	}
	create(t, env, role)
	create(t, env, binding)
	t.Cleanup(func() {
		_ = env.Client.Delete(ctx, binding)
		_ = env.Client.Delete(ctx, role)
	})
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}
	return cfg
}
