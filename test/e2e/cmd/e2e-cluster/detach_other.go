//go:build !linux

package main

import "errors"

// detachOutput is Linux-only, as is the cluster.
func detachOutput() error { return errors.New("not supported on this system") }
