#!/usr/bin/env bash
# Builds Argo Workflows' workflow-controller for the bench's side-by-side
# figures into bin/argo/<version>/workflow-controller and prints that file.
# It is built with `go build` from the Go module proxy through the helper
# module test/bench/argo, whose go.mod pins the release (and keeps Argo's
# dependencies out of the product's go.mod).
#
# Usage: hack/build-argo.sh            (prints the binary's path)
#        hack/build-argo.sh -crds      (prints the folder of Argo's CRDs, in the module cache)
#
# Cached: a binary that exists is not rebuilt. The first build takes minutes
# (9.5 on a busy 2-core machine).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
mod="$root/test/bench/argo"
module=github.com/argoproj/argo-workflows/v4
version=$(cd "$mod" && go list -m -f '{{.Version}}' "$module")

if [[ "${1:-}" == "-crds" ]]; then
  (cd "$mod" && GOFLAGS=-mod=mod go mod download "$module")
  echo "$(cd "$mod" && go list -m -f '{{.Dir}}' "$module")/manifests/base/crds/minimal"
  exit 0
fi

out="$root/bin/argo/$version"
bin="$out/workflow-controller"
if [[ -x "$bin" ]]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$out"
exec 9>"$root/bin/argo/.lock"
flock 9
if [[ ! -x "$bin" ]]; then
  echo "building Argo Workflows' workflow-controller $version (the first build takes minutes)" >&2
  start=$(date +%s)
  tmp=$(mktemp "$out/.workflow-controller.XXXXXX")
  (cd "$mod" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$tmp" "$module/cmd/workflow-controller")
  mv -f "$tmp" "$bin"
  echo "built workflow-controller in $(( $(date +%s) - start ))s" >&2
fi
echo "$bin"
