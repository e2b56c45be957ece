// Package workspace removes a finished run's workspace from its node: what
// the cleanup pod runs (`kubeci-operator cleanup DIR`, from Kube CI's own
// image), so that a cluster needs no other image than Kube CI's.
package workspace
