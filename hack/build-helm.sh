#!/usr/bin/env bash
# Builds Helm into bin/helm from the Go module proxy, at the release the helper
# module hack/helm pins (Debian has no helm package), and prints its path.
# Cached: an existing bin/helm of the pinned release is not rebuilt. The first
# build takes a few minutes on 2 cores.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=$(sed -n 's#^require helm.sh/helm/v3 \(v[^ ]*\)$#\1#p' hack/helm/go.mod)
out="$root/bin/helm"
stamp="$root/bin/.helm-$version"
if [[ -x "$out" && -e "$stamp" ]]; then
  echo "$out"
  exit 0
fi
mkdir -p bin
exec 9>"$root/bin/.helm.lock"
flock 9
if [[ -x "$out" && -e "$stamp" ]]; then
  echo "$out"
  exit 0
fi
echo "building helm $version (the first build takes minutes)" >&2
start=$(date +%s)
tmp=$(mktemp "$root/bin/.helm.XXXXXX")
(cd hack/helm && CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$version" -o "$tmp" helm.sh/helm/v3/cmd/helm)
mv -f "$tmp" "$out"
rm -f "$root"/bin/.helm-v*
touch "$stamp"
echo "built helm $version in $(( $(date +%s) - start ))s" >&2
echo "$out"
