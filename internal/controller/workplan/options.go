package workplan

import (
	"fmt"
	"path"
	"time"

	"k8s.io/utils/clock"
)

// Defaults of Options.
const (
	DefaultWorkspaceRoot            = "/kubeci"
	DefaultImagePullGracePeriod     = 5 * time.Minute
	DefaultUnschedulableGracePeriod = 10 * time.Minute
	DefaultNodeLostGracePeriod      = 5 * time.Minute
	DefaultCleanupBackoff           = 10 * time.Second
	DefaultMaxCleanupBackoff        = 5 * time.Minute
	DefaultCleanupAttempts          = 5
)

// Options configure the Workplan controller. The zero value of a field means
// its default.
type Options struct {
	// WorkspaceRoot is the folder on every node under which runs keep their
	// workspaces, at <root>/<namespace>/<workflow>/<workplan>. Default "/kubeci".
	WorkspaceRoot string
	// CleanupImage is the image that removes a finished run's workspace with
	// the cleanup subcommand (cleanupCommand), in the workspace cleaner of the
	// last task's pod and in cleanup pods: Kube CI's own image, by digest (the
	// shipped Deployment gives the operator its own image). Required.
	CleanupImage string

	// NoWorkspaceCleaner leaves the workspace cleaner (a native sidecar, see
	// cleanerFor) out of the last task's pod, so that every run is cleaned by
	// a cleanup pod: for clusters older than Kubernetes 1.29, whose API server
	// drops an init container's restartPolicy (the cleaner would then never
	// let the pod's steps start). Default false: the cleaner is on.
	NoWorkspaceCleaner bool

	// ImagePullGracePeriod is how long a step's container may fail to start
	// (image pull errors, a missing ConfigMap or Secret it references) before
	// the step fails. Errors that waiting cannot fix (an invalid image name)
	// fail it at once. Default 5m.
	ImagePullGracePeriod time.Duration
	// UnschedulableGracePeriod is how long a pod may wait for a node before
	// the run fails Unschedulable. Default 10m.
	UnschedulableGracePeriod time.Duration
	// NodeLostGracePeriod is how long the run's node may be NotReady before
	// its running pod is considered lost (the same 5m after which Kubernetes
	// evicts pods from an unreachable node by default), or before its
	// workspace cleanup is abandoned. A deleted node is lost at once.
	// Default 5m.
	NodeLostGracePeriod time.Duration

	// CleanupBackoff is the wait before retrying a failed cleanup pod; it
	// doubles after each failure up to MaxCleanupBackoff. Defaults 10s and 5m.
	CleanupBackoff    time.Duration
	MaxCleanupBackoff time.Duration
	// CleanupAttempts is how many cleanup pods may fail before the cleanup is
	// abandoned (reported in the WorkspaceCleaned condition). Default 5.
	CleanupAttempts int

	// MaxConcurrentReconciles is how many Workplans are reconciled at once.
	// Default 1 (controller-runtime's).
	MaxConcurrentReconciles int

	// Clock tells the time for deadlines and grace periods. Default the real
	// clock.
	Clock clock.PassiveClock
}

// withDefaults returns o with every unset field set to its default.
func (o Options) withDefaults() Options {
	if o.WorkspaceRoot == "" {
		o.WorkspaceRoot = DefaultWorkspaceRoot
	}
	if o.ImagePullGracePeriod == 0 {
		o.ImagePullGracePeriod = DefaultImagePullGracePeriod
	}
	if o.UnschedulableGracePeriod == 0 {
		o.UnschedulableGracePeriod = DefaultUnschedulableGracePeriod
	}
	if o.NodeLostGracePeriod == 0 {
		o.NodeLostGracePeriod = DefaultNodeLostGracePeriod
	}
	if o.CleanupBackoff == 0 {
		o.CleanupBackoff = DefaultCleanupBackoff
	}
	if o.MaxCleanupBackoff == 0 {
		o.MaxCleanupBackoff = DefaultMaxCleanupBackoff
	}
	if o.CleanupAttempts == 0 {
		o.CleanupAttempts = DefaultCleanupAttempts
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	return o
}

// validate reports the first option that cannot work, saying how to fix it.
func (o Options) validate() error {
	switch {
	case !path.IsAbs(o.WorkspaceRoot) || path.Clean(o.WorkspaceRoot) != o.WorkspaceRoot:
		return fmt.Errorf("workspace root %q must be a clean absolute path such as %q", o.WorkspaceRoot, DefaultWorkspaceRoot)
	case o.WorkspaceRoot == "/":
		return fmt.Errorf("workspace root must not be \"/\": use a folder of its own such as %q", DefaultWorkspaceRoot)
	case o.CleanupImage == "":
		return fmt.Errorf("no cleanup image: give Kube CI's own image (--cleanup-image, or KUBECI_OPERATOR_IMAGE as the shipped Deployment does)")
	case o.ImagePullGracePeriod < 0 || o.UnschedulableGracePeriod < 0 || o.NodeLostGracePeriod < 0:
		return fmt.Errorf("grace periods must not be negative")
	case o.CleanupBackoff < 0 || o.MaxCleanupBackoff < o.CleanupBackoff:
		return fmt.Errorf("cleanup backoff %s must be positive and at most the maximum backoff %s", o.CleanupBackoff, o.MaxCleanupBackoff)
	case o.CleanupAttempts < 1:
		return fmt.Errorf("cleanup attempts must be at least 1, not %d", o.CleanupAttempts)
	}
	return nil
}

// cleanupBackoff is how long to wait after the attempt-th failed cleanup pod
// before starting the next one.
func (o Options) cleanupBackoff(attempt int) time.Duration {
	d := o.CleanupBackoff
	for i := 1; i < attempt && d < o.MaxCleanupBackoff; i++ {
		d *= 2
	}
	return min(d, o.MaxCleanupBackoff)
}

// cleanerImage is the image of the workspace cleaner, or "" when there is
// none.
func (o Options) cleanerImage() string {
	if o.NoWorkspaceCleaner {
		return ""
	}
	return o.CleanupImage
}
