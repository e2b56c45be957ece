package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// watchListOff makes the kube-apiserver that testenv starts run with
// --feature-gates=WatchList=false, until the returned function restores the
// environment. It writes a folder holding a kube-apiserver script that adds
// the flag and execs the real one (same process, same name for /proc), and
// etcd, and points KUBEBUILDER_ASSETS at it.
//
// Why: kube-apiserver v1.37 serves a watch from resourceVersion "" or "0"
// with bookmarks as a watch stream (sendInitialEvents), which needs etcd's
// RequestWatchProgress, which Debian's etcd 3.4 lacks: it answers such
// watches with an error. Argo's informers (client-go v0.33; Argo turns
// resourceVersion "0" into "") make them, and each refusal costs a relist
// after a growing back-off: tens of seconds during which Argo sees no events.
// Without the watch-list gate, kube-apiserver serves them as plain watches.
func watchListOff(tmp string) (restore func(), err error) {
	real := os.Getenv("KUBEBUILDER_ASSETS")
	if real == "" {
		return nil, fmt.Errorf("KUBEBUILDER_ASSETS is not set (make bench sets it)")
	}
	dir := filepath.Join(tmp, "assets-watchlist-off")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	apiserver, err := filepath.Abs(filepath.Join(real, "kube-apiserver"))
	if err != nil {
		return nil, err
	}
	script := fmt.Sprintf("#!/bin/sh\nexec %q --feature-gates=WatchList=false \"$@\"\n", apiserver)
	if err := os.WriteFile(filepath.Join(dir, "kube-apiserver"), []byte(script), 0o755); err != nil {
		return nil, err
	}
	etcd, err := filepath.Abs(filepath.Join(real, "etcd"))
	if err != nil {
		return nil, err
	}
	_ = os.Remove(filepath.Join(dir, "etcd"))
	if err := os.Symlink(etcd, filepath.Join(dir, "etcd")); err != nil {
		return nil, err
	}
	if err := os.Setenv("KUBEBUILDER_ASSETS", dir); err != nil {
		return nil, err
	}
	return func() { _ = os.Setenv("KUBEBUILDER_ASSETS", real) }, nil
}
