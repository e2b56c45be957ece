// Package image builds container images without a Docker daemon, with
// go-containerregistry: Kube CI's own image (Build: the operator as
// entrypoint, and the kubeci CLI) for `make image` and the end-to-end tests,
// and any image around static binaries or a hand-made layer (the end-to-end
// cluster's step and pause images). It writes them as an OCI layout tarball
// or a docker-archive, which `ctr images import` loads, or pushes them to a
// registry.
//
// The images are distroless-style (static binaries, /etc/passwd with the
// non-root user 65532, /tmp, the CA certificates; no shell) and
// reproducible: binaries are built with -trimpath and an empty build ID,
// layer entries are sorted with zero times, and the configuration carries no
// creation time, so the same source gives the same digest.
package image
