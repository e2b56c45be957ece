// Package plan holds Kube CI's pure decisions about a Workflow's steps: Validate
// reports every problem with its field path, Plan resolves the step DAG into
// ordered tasks of serial and parallel steps, NewWorkplan builds the run the
// operator creates, and StepEnv gives the environment every step sees. It
// imports no Kubernetes client, so the CLI, the local runner and the operator all
// share it.
package plan
