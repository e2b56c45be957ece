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
//   - runtime.go: the Runtime interface and choosing one (auto, oci, host,
//     docker, podman);
//   - host.go, host_linux.go, hostns_linux.go: the host runtime, which runs each
//     step on this machine in its own mount and PID namespaces, re-executing
//     this binary (HostStepMain) to give it a root where every directory but
//     /dev and /sys is a copy-on-write overlay, the workspace bound at /kubeci
//     and its working directory bound as it is;
//   - oci.go, oci_linux.go: the oci runtime, which runs each step in its image
//     with runc, re-executing this binary (OCIStepMain) to mount the step's
//     overlay root in a mount namespace of its own; bundle.go: the step's OCI
//     runtime configuration, as the kubelet would run its container (pure);
//     image.go, untar.go: pulling, caching and unpacking images; pullbar.go:
//     pull progress on a terminal; imagemap.go: --image FROM=TO;
//   - runtimes_other.go: what remains of host and oci off Linux;
//   - container.go: the docker and podman runtimes;
//   - triggerobject.go: a run as triggered by an object (--trigger-object);
//   - leftovers.go: the run's temporary directories, and removing what killed
//     runs left;
//   - output.go: step output prefixed with the step's name, start and finish
//     lines; summary.go: the summary's outcome line (the CLI draws the steps'
//     tree) and the JSON result;
//   - workspace.go: the workspace directory and its removal.
package local
