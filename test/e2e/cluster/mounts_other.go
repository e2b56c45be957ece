//go:build !linux

package cluster

// unmount is Linux-only, as is the cluster (see Unsupported).
func unmount(string, bool) error { return errUnsupported }
