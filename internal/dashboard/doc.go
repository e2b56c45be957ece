// Package dashboard serves Kube CI's web UI (kubeci dashboard): the Workflows
// of a namespace, a Workflow's step graph and runs, and a run's live graph and
// logs, with Trigger, Cancel and Rerun buttons.
//
// Every read and every action is made with the viewer's own Kubernetes
// credentials, never with the server's: the caller's kubeconfig when it runs
// on a laptop (like kubectl proxy), or the bearer token the viewer logged in
// with when it runs in the cluster (auth.go). So the UI can never do more than
// its user.
//
// Pages are rendered on the server with html/template (pages.go, views.go
// decides what to show, dag.go lays the step graph out as SVG from the
// planner's own levels and tasks); they stay live through server-sent events
// fed by Kubernetes watches made as the viewer (sse.go), which push freshly
// rendered fragments and, on a run's page, the steps' log lines in the order
// and with the prefixes of kubeci logs -f (logs.go, package runlogs). Actions
// are POSTs guarded against cross-site requests (actions.go, auth.go) that ask
// the operator exactly as the CLI does (package runrequest). The templates,
// CSS and the small script are embedded; nothing is fetched from elsewhere.
package dashboard
