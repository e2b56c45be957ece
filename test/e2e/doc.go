// Package e2e holds the end-to-end tests (build tag e2e): Kube CI on a real
// single-node cluster that package cluster brings up on this machine. Run
// them with `make e2e` (Linux, root); docs/e2e.md explains the cluster.
//
// All end-to-end tests live in this one package so that they share one
// cluster: TestMain brings it up once for the test binary.
package e2e
