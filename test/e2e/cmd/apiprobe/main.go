// Command apiprobe proves that a pod reaches the API server the way an
// operator does: with the in-cluster configuration (the `kubernetes` Service's
// address from KUBERNETES_SERVICE_HOST, the ServiceAccount's token and CA). It
// prints who the API server says it is, the pods of its namespace and whether
// it may list the namespace's secrets, and exits 1 when a call fails
// otherwise. The end-to-end smoke test runs it as a pod.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const namespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "apiprobe: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return err
	}
	fmt.Printf("server=%s\n", cfg.Host)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("asking who I am: %w", err)
	}
	fmt.Printf("user=%s\n", review.Status.UserInfo.Username)
	ns, err := os.ReadFile(namespaceFile)
	if err != nil {
		return err
	}
	pods, err := cs.CoreV1().Pods(strings.TrimSpace(string(ns))).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing pods: %w", err)
	}
	names := make([]string, 0, len(pods.Items))
	for _, p := range pods.Items {
		names = append(names, p.Name)
	}
	fmt.Printf("pods=%s\n", strings.Join(names, ","))
	// RBAC grants only what the ServiceAccount's Role allows: not secrets.
	_, err = cs.CoreV1().Secrets(strings.TrimSpace(string(ns))).List(ctx, metav1.ListOptions{})
	switch {
	case apierrors.IsForbidden(err):
		fmt.Println("secrets=forbidden")
	case err == nil:
		fmt.Println("secrets=allowed")
	default:
		return fmt.Errorf("listing secrets: %w", err)
	}
	return nil
}
