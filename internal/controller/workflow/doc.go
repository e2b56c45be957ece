// Package workflow is the Workflow controller. For each Workflow it validates
// the spec with the planner, resolves every trigger's kind through discovery,
// checks that the Workflow's ServiceAccount may list and watch the objects, and
// subscribes to shared dynamic informers (package watch). Informer events only
// wake the Workflow up; each reconcile then compares the matching objects with
// the record of acted-on changes (status.lastObservedResourceGeneration, or
// TriggerRecord shards when large: record.go) and creates one
// Workplan per real change, under a name derived from the change so that a
// retry or a restart can never start it twice. Manual runs are asked for with
// the kube.ci/run-request annotation and answered the same way. As the CronJob
// controller prunes its Jobs, the controller also deletes the oldest ended
// runs beyond the Workflow's history limits (history.go): a run's end, or a
// change of the limits, wakes the Workflow up.
package workflow
