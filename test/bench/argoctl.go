package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// argoAssets builds (once, cached under bin/argo) Argo's workflow-controller
// and returns it and the folder of Argo's CRDs in the Go module cache, both
// through hack/build-argo.sh.
func argoAssets(ctx context.Context, root string) (binary, crds string, err error) {
	script := filepath.Join(root, "hack", "build-argo.sh")
	run := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, script, args...)
		cmd.Dir = root
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("hack/build-argo.sh %s: %w", strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out)), nil
	}
	if binary, err = run(); err != nil {
		return "", "", err
	}
	crds, err = run("-crds")
	return binary, crds, err
}

// argoControllerConfigMap is the ConfigMap the controller reads its
// configuration from; empty, so every setting is Argo's default.
const argoControllerConfigMap = "workflow-controller-configmap"

// installArgo creates Argo's CRDs from the folder crds (Argo's own
// manifests, read from the module cache) and the controller's empty
// ConfigMap in the namespace of the kubeconfig's context ("default").
func installArgo(ctx context.Context, c client.Client, crds string) error {
	files, err := filepath.Glob(filepath.Join(crds, "argoproj.io_*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no Argo CRDs in %s (%v)", crds, err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		crd := &unstructured.Unstructured{}
		if err := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096).Decode(&crd.Object); err != nil {
			return fmt.Errorf("reading %s: %w", f, err)
		}
		if err := c.Create(ctx, crd); err != nil {
			return fmt.Errorf("creating the CRD of %s: %w", f, err)
		}
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: argoControllerConfigMap}}
	return c.Create(ctx, cm)
}

// startArgo starts Argo's workflow-controller with kubeconfig, managing the
// namespace ns only, with its default settings (32 workflow workers, client
// QPS 20 and burst 30, leader election on) unless extraArgs say otherwise.
// Its log goes to logDir/argo-<label>.log. It serves its health check on
// :6060 and its metrics on :9090, ports it does not let one change from the
// command line: two bench runs at once on one machine would clash.
//
// env adds to its environment: requeue, when positive, sets
// DEFAULT_REQUEUE_TIME (how soon a Workflow is reconciled again after an
// event, 10 s by default).
func startArgo(binary, kubeconfig, ns, logDir, label string, requeue time.Duration, extraArgs ...string) (*operator, error) {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(logDir, "argo-"+label+".log"))
	if err != nil {
		return nil, err
	}
	args := append([]string{"--configmap", argoControllerConfigMap, "--namespaced", "--managed-namespace", ns,
		"--executor-image", "quay.io/argoproj/argoexec:v4.0.5"}, extraArgs...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "LEADER_ELECTION_IDENTITY=kubeci-bench")
	if requeue > 0 {
		cmd.Env = append(cmd.Env, "DEFAULT_REQUEUE_TIME="+requeue.String())
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	op := &operator{cmd: cmd, log: log, done: make(chan error, 1)}
	go func() { op.done <- cmd.Wait() }()
	return op, nil
}
