#!/usr/bin/env bash
# Builds the Kubernetes binaries the tests need into bin/k8s/<version>/ and
# prints that folder. kube-apiserver, kubelet, kube-scheduler,
# kube-controller-manager and kubectl are built with `go build` from
# k8s.io/kubernetes through the helper module hack/k8s (its go.mod pins the
# release and replaces the staging modules the module proxy's zip lacks). etcd is
# Debian's etcd-server package (installed with apt-get when missing and running
# as root), linked into the folder: building etcd from source would add minutes
# to every fresh machine for no gain, and Debian's 3.4 serves kube-apiserver
# v1.37 fine.
#
# Usage: hack/build-k8s.sh [COMPONENT...]   (default: kube-apiserver etcd)
#
# Cached: a binary that exists is not rebuilt, so a second run takes seconds.
# Safe to run in parallel with itself: builds hold a lock and each binary is
# written to a temporary file and renamed into place.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# The release must match the client libraries the project is built with.
api_version=$(go list -m -f '{{.Version}}' k8s.io/api)            # v0.37.2
k8s_version=v1${api_version#v0}                                    # v1.37.2
pinned=$(sed -n 's#^require k8s.io/kubernetes \(v[^ ]*\)$#\1#p' hack/k8s/go.mod)
if [[ "$pinned" != "$k8s_version" ]]; then
  echo "hack/k8s/go.mod pins k8s.io/kubernetes $pinned but go.mod uses k8s.io/api $api_version;" >&2
  echo "update hack/k8s/go.mod to $k8s_version (and its staging replaces to $api_version)." >&2
  exit 1
fi

out="$root/bin/k8s/$k8s_version"
mkdir -p "$out"
components=("$@")
[[ ${#components[@]} -gt 0 ]] || components=(kube-apiserver etcd)

missing=()
for c in "${components[@]}"; do
  [[ -x "$out/$c" ]] || missing+=("$c")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$out"
  exit 0
fi

exec 9>"$root/bin/k8s/.lock"
flock 9   # another run may be building the same binaries: wait for it

major_minor=${k8s_version#v}
ldflags="-s -w
  -X k8s.io/component-base/version.gitVersion=$k8s_version
  -X k8s.io/component-base/version.gitMajor=${major_minor%%.*}
  -X k8s.io/component-base/version.gitMinor=$(echo "$major_minor" | cut -d. -f2)
  -X k8s.io/component-base/version.gitTreeState=clean
  -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z"

install_etcd() {
  if ! command -v etcd >/dev/null 2>&1; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "etcd is missing: install Debian's etcd-server package (apt-get install etcd-server) or run as root" >&2
      exit 1
    fi
    echo "installing etcd-server with apt-get" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq etcd-server >&2
  fi
  ln -sf "$(command -v etcd)" "$out/etcd"
}

for c in "${missing[@]}"; do
  [[ -x "$out/$c" ]] && continue   # built by a run we waited for
  case "$c" in
    etcd) install_etcd ;;
    kube-apiserver|kubelet|kube-scheduler|kube-controller-manager|kube-proxy|kubectl)
      echo "building $c $k8s_version (the first build takes minutes)" >&2
      start=$(date +%s)
      tmp=$(mktemp "$out/.$c.XXXXXX")
      (cd hack/k8s && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp" "k8s.io/kubernetes/cmd/$c")
      mv -f "$tmp" "$out/$c"
      echo "built $c in $(( $(date +%s) - start ))s" >&2
      ;;
    *) echo "unknown component $c" >&2; exit 1 ;;
  esac
done
echo "$out"
