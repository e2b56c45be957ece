// Package trigger holds the Workflow operator's pure decisions about the objects
// its triggers watch, so that a run starts exactly once per real change:
//
//   - ResourceGeneration says what "a real change" is for any object: its
//     metadata.generation when it has one, else a hash of its content without
//     metadata and status.
//   - Filter says whether an object matches a trigger (namespace, name, labels);
//     Lookups says how to find the objects that may match in an informer's
//     cache; Classify says what an informer event means to a Workflow
//     (filtered, duplicate or accepted); DeletedFallback describes an object
//     deleted while nobody watched.
//   - Decide compares the matching objects with the generations a Workflow last
//     acted on (its status.lastObservedResourceGeneration) and returns the runs
//     to start and the new record. It is level-based: it does not care how many
//     informer events, resyncs, relists or restarts led to the current state.
//   - ShardOf, Apply, Grow and Split say how a record too large for the
//     status is kept in shards and which of them a decision rewrites.
//   - AccessFresh says how long the answer to a SubjectAccessReview (may a
//     Workflow's ServiceAccount list and watch a trigger's objects) is reused.
//
// Nothing here talks to the API server.
package trigger
