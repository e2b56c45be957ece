//go:build e2e

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"

	"github.com/kubeci/kubeci/test/e2e/cluster"
)

// The smoke tests prove the cluster itself, before any Kube CI test relies on
// it: pods run with init and parallel containers sharing a hostPath, their
// logs are served, the controller-manager collects garbage, and a pod reaches
// the API server with its ServiceAccount as an operator would.

// TestSmokePodSharesHostPath runs an init container and two containers that
// can only finish together (each waits for the other's file), all sharing a
// hostPath folder, and checks the pod, its logs and the folder on the host.
func TestSmokePodSharesHostPath(t *testing.T) {
	cl := cluster.Get(t)
	ns := cl.Namespace(t)
	hostDir := filepath.Join(t.TempDir(), "workspace")

	ws := corev1.VolumeMount{Name: "workspace", MountPath: "/workspace"}
	waitFor := func(file string) string {
		return "i=0; while [ ! -e /workspace/" + file + " ]; do i=$((i+1)); [ $i -lt 600 ] || exit 9; sleep 0.1; done; "
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke", Namespace: ns},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Volumes: []corev1.Volume{{Name: "workspace", VolumeSource: corev1.VolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: hostDir, Type: ptr.To(corev1.HostPathDirectoryOrCreate)},
			}}},
			InitContainers: []corev1.Container{
				busybox("init", "echo from-init > /workspace/init; echo init done", ws),
			},
			Containers: []corev1.Container{
				busybox("left", "cat /workspace/init; touch /workspace/left; "+waitFor("right")+"echo left saw right", ws),
				busybox("right", "cat /workspace/init; touch /workspace/right; "+waitFor("left")+"echo right saw left", ws),
			},
		},
	}
	if _, err := cl.Clientset.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	done := waitForPodDone(t, cl, ns, pod.Name, 2*time.Minute)
	requireSucceeded(t, cl, done)

	for container, want := range map[string]string{
		"init":  "init done\n",
		"left":  "from-init\nleft saw right\n",
		"right": "from-init\nright saw left\n",
	} {
		if got := cl.Kubectl(t, "logs", "-n", ns, pod.Name, "-c", container); got != want {
			t.Errorf("kubectl logs -c %s = %q, want %q", container, got, want)
		}
	}
	for file, want := range map[string]string{"init": "from-init\n", "left": "", "right": ""} {
		got, err := cl.ReadHostFile(filepath.Join(hostDir, file))
		if err != nil {
			t.Errorf("the pod's file on the host: %v", err)
		} else if string(got) != want {
			t.Errorf("host file %s = %q, want %q", file, got, want)
		}
	}
}

// TestSmokeGarbageCollection deletes an owner and waits for the
// controller-manager's garbage collector to delete its child.
func TestSmokeGarbageCollection(t *testing.T) {
	cl := cluster.Get(t)
	ns := cl.Namespace(t)
	cms := cl.Clientset.CoreV1().ConfigMaps(ns)
	owner, err := cms.Create(t.Context(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "owner"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	child := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
		Name: "child",
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID,
		}},
	}}
	if _, err := cms.Create(t.Context(), child, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(t.Context(), owner.Name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := cms.Get(ctx, child.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		t.Fatalf("the child of a deleted owner was not garbage-collected: %v (see %s)", err, cl.LogFile("kube-controller-manager"))
	}
}

// TestSmokeInClusterAPIAccess runs test/e2e/cmd/apiprobe, built into an image
// with the generic static-binary builder (as the operator's will be), as a
// non-root pod under its own ServiceAccount: with the in-cluster
// configuration it must reach the API server through the `kubernetes` Service
// (kube-proxy), be authenticated as that ServiceAccount, and be allowed by
// RBAC to list the pods.
func TestSmokeInClusterAPIAccess(t *testing.T) {
	cl := cluster.Get(t)
	ns := cl.Namespace(t)
	const image = "kubeci.local/apiprobe:e2e"
	if err := cl.ImportGoImage(t.Context(), "./test/e2e/cmd/apiprobe", image, ""); err != nil {
		t.Fatal(err)
	}

	ctx := t.Context()
	if _, err := cl.Clientset.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "apiprobe"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "pod-lister"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}}},
	}
	if _, err := cl.Clientset.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "apiprobe"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "apiprobe", Namespace: ns}},
	}
	if _, err := cl.Clientset.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "apiprobe", Namespace: ns},
		Spec: corev1.PodSpec{
			RestartPolicy:      corev1.RestartPolicyNever,
			ServiceAccountName: "apiprobe",
			SecurityContext:    &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)},
			Containers:         []corev1.Container{{Name: "apiprobe", Image: image, ImagePullPolicy: corev1.PullNever}},
		},
	}
	if _, err := cl.Clientset.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	requireSucceeded(t, cl, waitForPodDone(t, cl, ns, pod.Name, 2*time.Minute))

	logs := cl.Kubectl(t, "logs", "-n", ns, pod.Name)
	for _, want := range []string{
		"server=https://" + cluster.KubernetesServiceIP + ":443\n",
		"user=system:serviceaccount:" + ns + ":apiprobe\n",
		"pods=apiprobe\n",
		"secrets=forbidden\n", // the Role grants pods only
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("apiprobe's log lacks %q:\n%s", want, logs)
		}
	}
}

// TestSmokeHarnessFiles checks what the harness promises tests: the admin
// kubeconfig and the component logs exist.
func TestSmokeHarnessFiles(t *testing.T) {
	cl := cluster.Get(t)
	for _, f := range []string{cl.Kubeconfig(), cl.LogFile("kubelet"), cl.LogFile("kube-apiserver")} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
	if out := cl.Kubectl(t, "get", "node", cluster.NodeName, "-o", "name"); out != "node/"+cluster.NodeName+"\n" {
		t.Errorf("kubectl get node = %q", out)
	}
}
