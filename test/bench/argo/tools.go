//go:build tools

// Package argo pins Argo Workflows' workflow-controller for the bench:
// hack/build-argo.sh builds github.com/argoproj/argo-workflows/v4/cmd/workflow-controller
// with this module's go.mod and go.sum, and the bench reads Argo's CRDs from
// the module cache (go list -m -f {{.Dir}}).
package argo

import _ "github.com/argoproj/argo-workflows/v4/cmd/workflow-controller"
