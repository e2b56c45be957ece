//go:build !linux

package cluster

import "os/exec"

// dieWithParent is Linux-only, as is the cluster.
func dieWithParent(*exec.Cmd) {}
