#!/usr/bin/env bash
# Installs what `make test` needs besides Go, so that it does all its set-up on
# a fresh Debian machine: Debian's chromium (the dashboard's browser tests),
# runc and busybox-static (kubeci run --runtime oci), and helm built from the
# Go module proxy (the chart's tests). kube-apiserver and etcd come from
# hack/build-k8s.sh.
#
# Installing packages needs root: as another user it says what is missing and
# goes on; the tests that need it then skip, saying why (or fail, with CI set).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v runc >/dev/null 2>&1 || need+=(runc)
[[ -x /bin/busybox ]] || need+=(busybox-static)
if [[ ${#need[@]} -gt 0 ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need[*]} with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "test-deps: missing ${need[*]} (install them with apt-get as root); the tests that need them will skip" >&2
  fi
fi
hack/build-helm.sh >/dev/null
