//go:build e2e

package e2e

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kubeci/kubeci/test/e2e/cluster"
	"github.com/kubeci/kubeci/test/e2e/images"
)

// waitForPodDone waits until the pod has Succeeded or Failed and returns it.
// On timeout it fails the test with `kubectl describe` of the pod.
func waitForPodDone(t *testing.T, cl *cluster.Cluster, ns, name string, timeout time.Duration) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	err := wait.PollUntilContextTimeout(t.Context(), 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		p, err := cl.Clientset.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pod = p
		return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed, nil
	})
	if err != nil {
		describe, _ := cl.RunKubectl(context.Background(), "describe", "pod", "-n", ns, name)
		t.Fatalf("pod %s/%s not done after %s: %v\n%s", ns, name, timeout, err, describe)
	}
	return pod
}

// requireSucceeded fails the test, with the pod's containers' logs, unless the
// pod Succeeded.
func requireSucceeded(t *testing.T, cl *cluster.Cluster, pod *corev1.Pod) {
	t.Helper()
	if pod.Status.Phase == corev1.PodSucceeded {
		return
	}
	describe, _ := cl.RunKubectl(context.Background(), "describe", "pod", "-n", pod.Namespace, pod.Name)
	logs, _ := cl.RunKubectl(context.Background(), "logs", "-n", pod.Namespace, pod.Name, "--all-containers", "--prefix")
	t.Fatalf("pod %s/%s is %s, want Succeeded\n%s\nlogs:\n%s", pod.Namespace, pod.Name, pod.Status.Phase, describe, logs)
}

// busybox is a container of the step image running a shell script.
func busybox(name, script string, mounts ...corev1.VolumeMount) corev1.Container {
	return corev1.Container{
		Name:            name,
		Image:           images.Busybox,
		ImagePullPolicy: corev1.PullNever,
		Command:         []string{"/bin/sh", "-c", script},
		VolumeMounts:    mounts,
	}
}
