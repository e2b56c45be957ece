// Package release renders what a Kube CI release ships, from config/ with
// kustomize (as a library): the one-file install manifest
// (dist/install.yaml: namespace, CRDs, RBAC, the operator's Deployment with
// its image by digest, the admission policy), and the parts of the Helm
// chart under charts/kubeci that are the same manifests (Chart), so that the
// file and the chart cannot drift. `make release` (hack/release) and the
// end-to-end tests use it; nothing it writes is edited by hand.
package release
