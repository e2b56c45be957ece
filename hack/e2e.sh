#!/usr/bin/env bash
# Runs the end-to-end tests (`make e2e`): the Go tests with build tag e2e under
# test/e2e, on a single-node cluster their TestMain brings up on this machine
# (test/e2e/cluster) and tears down afterwards. See docs/e2e.md.
#
# The cluster needs Linux and root. Elsewhere this skips with the reason, or
# fails when CI is set. With KUBECI_E2E_KUBECONFIG set, the tests reuse the
# cluster `make e2e-up` keeps up. E2E_TESTFLAGS adds `go test` flags
# (for example E2E_TESTFLAGS='-run TestSmoke').
set -euo pipefail
cd "$(dirname "$0")/.."

reason=""
if [[ $(uname -s) != Linux ]]; then
  reason="the end-to-end cluster runs on Linux only (this is $(uname -s))"
elif [[ $(id -u) -ne 0 ]]; then
  reason="the end-to-end cluster needs root (it runs containerd and the kubelet, mounts, and changes iptables); run 'sudo make e2e'"
fi
if [[ -n "$reason" ]]; then
  if [[ -n "${CI:-}" ]]; then
    echo "e2e: cannot run the end-to-end tests: $reason (failing because CI is set)" >&2
    exit 1
  fi
  echo "e2e: skipping the end-to-end tests: $reason" >&2
  exit 0
fi

start=$(date +%s)
# The Kubernetes binaries (cached; minutes on a fresh machine), built before
# `go test` so that its timeout covers the tests only.
hack/build-k8s.sh etcd kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet kubectl >/dev/null
# Helm, for the chart's server-side dry run (TestHelmChartDryRun).
hack/build-helm.sh >/dev/null
go build -o bin/e2e-cluster ./test/e2e/cmd/e2e-cluster
go vet -tags e2e ./test/e2e/...
status=0
# shellcheck disable=SC2086 # E2E_TESTFLAGS holds several flags
go test -tags e2e -count=1 -timeout 30m -v ./test/e2e/... ${E2E_TESTFLAGS:-} || status=$?
# A test binary that panicked or timed out exits without tearing its cluster
# down: remove what it left (a cluster kept up on purpose stays).
if [[ -z "${KUBECI_E2E_KUBECONFIG:-}" ]]; then
  bin/e2e-cluster down --leftovers || status=1
fi
echo "e2e: make e2e took $(( $(date +%s) - start ))s (exit status $status)" >&2
exit "$status"
