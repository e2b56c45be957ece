// Package workspace removes a finished run's workspace from its node: what
// the workspace cleaner runs, the native sidecar of a run's last task pod
// (`kubeci-operator cleanup --on-sigterm DIR`, which removes the workspace
// when the kubelet stops it once the steps have exited), and what the cleanup
// pod runs when that cannot do (`kubeci-operator cleanup DIR`), both from Kube
// CI's own image, so that a cluster needs no other image than Kube CI's.
package workspace
