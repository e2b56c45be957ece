//go:build tools

// Package helm only records the Helm command hack/build-helm.sh builds, so that
// `go mod tidy` keeps its dependencies in go.sum.
package helm

import _ "helm.sh/helm/v3/cmd/helm"
