package cluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// waitForCluster waits until the cluster can run a test's pods: the node is
// Ready, and the default namespace has its ServiceAccount and the
// kube-root-ca.crt ConfigMap that every pod's token volume needs.
func waitForCluster(ctx context.Context, cs kubernetes.Interface) error {
	checks := []struct {
		what  string
		check func(context.Context) error
	}{
		{"node " + NodeName + " Ready", func(ctx context.Context) error {
			n, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			for _, cond := range n.Status.Conditions {
				if cond.Type == corev1.NodeReady {
					if cond.Status == corev1.ConditionTrue {
						return nil
					}
					return fmt.Errorf("Ready is %s: %s: %s", cond.Status, cond.Reason, cond.Message)
				}
			}
			return fmt.Errorf("no Ready condition yet")
		}},
		{"ServiceAccount default/default", func(ctx context.Context) error {
			_, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
			return err
		}},
		{"ConfigMap default/kube-root-ca.crt", func(ctx context.Context) error {
			_, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
			return err
		}},
	}
	for _, c := range checks {
		if err := poll(ctx, time.Minute, c.check); err != nil {
			return fmt.Errorf("waiting for %s: %w (the logs in the state folder's logs/ tell more)", c.what, err)
		}
	}
	return nil
}

// poll calls check until it succeeds, returning its last error after timeout.
func poll(ctx context.Context, timeout time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := check(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not after %s: %w", timeout, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
