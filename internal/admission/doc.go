// Package admission refuses, without a cluster, the Workflows the API server
// would refuse: it checks a Workflow against the Workflow CRD's own OpenAPI
// schema and CEL rules (config/crd, as controller-gen generates them) with
// the API server's own libraries (k8s.io/apiextensions-apiserver), and its
// metadata as the API server checks every object's. Nothing is copied by
// hand: a rule added to the API types reaches kubeci validate and kubeci run
// with make manifests.
package admission
