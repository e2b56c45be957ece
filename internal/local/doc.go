// Package local runs a Workflow on this machine without a cluster, with the
// operator's semantics: the same planner (internal/plan), the same KUBECI_*
// environment, a workspace every step sees at /kubeci, and the same order. Tasks
// run one after another; in each task the serial steps run one after another,
// then the parallel steps run together; a failing serial step ends its task, a
// failing parallel step lets its siblings finish, and no task starts after a
// failure.
//
// One concern per file:
//
//   - run.go: Run, the whole local run (runtime, workspace, plan, execute,
//     report);
//   - execute.go: the order steps run in, over a step function, so that it can
//     be tested without processes;
//   - step.go: what a runtime is given for a step (argv, environment), and the
//     parts of a Workflow that cannot work without a cluster;
//   - runtime.go: the Runtime interface and choosing one (auto, host, docker,
//     podman);
//   - host.go, host_linux.go, hostns_linux.go: the host runtime, which runs each
//     step on this machine in its own mount and PID namespaces, re-executing
//     this binary (HostStepMain) to bind the workspace at /kubeci;
//   - container.go: the docker and podman runtimes;
//   - output.go: step output prefixed with the step's name, start and finish
//     lines; summary.go: the summary table and the JSON result;
//   - workspace.go: the workspace directory and its removal.
package local
