// Command kubeci-operator runs Kube CI's controllers: the Workflow controller,
// which watches trigger objects and creates Workplans, and the Workplan
// controller, which runs them as pods. It runs in a cluster under its
// ServiceAccount, or outside one with KUBECONFIG and --cleanup-image set.
// `kubeci-operator cleanup DIR` is what its cleanup pods run.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/controller/workflow"
	"github.com/kubeci/kubeci/internal/controller/workplan"
	"github.com/kubeci/kubeci/internal/version"
)

// flags are the operator's command-line settings.
type flags struct {
	metricsAddr, probeAddr string
	pprofAddr              string
	leaderElect            bool
	leaderElectionNS       string
	workflow               workflow.Options
	workplan               workplan.Options
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "cleanup" {
		os.Exit(cleanupMain(os.Args[2:]))
	}
	var f flags
	fs := flag.CommandLine
	config.RegisterFlags(fs) // --kubeconfig
	fs.StringVar(&f.metricsAddr, "metrics-bind-address", ":8080", "Address the Prometheus metrics endpoint binds to (0 disables it).")
	fs.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "Address the /healthz and /readyz probes bind to.")
	fs.StringVar(&f.pprofAddr, "pprof-bind-address", "", "Address the pprof endpoints (/debug/pprof/) bind to, for profiling; empty (the default) disables them.")
	fs.BoolVar(&f.leaderElect, "leader-elect", false, "Elect a leader, so that only one of several replicas acts (the shipped Deployment turns it on).")
	fs.StringVar(&f.leaderElectionNS, "leader-election-namespace", "", "Namespace of the leader election Lease; defaults to the pod's namespace in a cluster.")
	fs.IntVar(&f.workflow.MaxConcurrentReconciles, "workflow-concurrency", 4, "Workflows reconciled at once.")
	fs.IntVar(&f.workplan.MaxConcurrentReconciles, "workplan-concurrency", 4, "Workplans reconciled at once.")
	fs.StringVar(&f.workplan.WorkspaceRoot, "workspace-root", workplan.DefaultWorkspaceRoot,
		"Folder on each node holding the runs' workspaces, at <root>/<namespace>/<workflow>/<workplan>.")
	fs.StringVar(&f.workplan.CleanupImage, "cleanup-image", os.Getenv(envOwnImage),
		"Image that removes a finished run's workspace with kubeci-operator cleanup, in the last task pod's workspace cleaner (a native sidecar) or a cleanup pod: Kube CI's image, by digest (default $"+envOwnImage+", the operator's own image in the shipped Deployment).")
	fs.BoolFunc("workspace-cleaner", "Clean a run's workspace from its last task's pod with a native sidecar, so that only runs that end before their last task need a cleanup pod (default true; =false on clusters older than Kubernetes 1.29, which lack native sidecars).",
		func(v string) error {
			on, err := strconv.ParseBool(v)
			f.workplan.NoWorkspaceCleaner = !on
			return err
		})
	fs.DurationVar(&f.workplan.ImagePullGracePeriod, "image-pull-grace-period", workplan.DefaultImagePullGracePeriod,
		"How long a step's container may fail to start (image pull errors) before the run fails.")
	fs.DurationVar(&f.workplan.UnschedulableGracePeriod, "unschedulable-grace-period", workplan.DefaultUnschedulableGracePeriod,
		"How long a task's pod may wait for a node before the run fails.")
	fs.DurationVar(&f.workplan.NodeLostGracePeriod, "node-lost-grace-period", workplan.DefaultNodeLostGracePeriod,
		"How long a run's node may be NotReady before its pod counts as lost.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs) // --zap-log-level, --zap-devel, ...
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(f); err != nil {
		ctrl.Log.WithName("setup").Error(err, "kubeci-operator stopped")
		os.Exit(1)
	}
}

func run(f flags) error {
	log := ctrl.Log.WithName("setup")
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(kubeciv1.AddToScheme(scheme))

	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("no cluster to talk to (set KUBECONFIG or --kubeconfig, or run in a cluster): %w", err)
	}
	// The operator caches only the pods it runs, not every pod of the cluster.
	ownPods, err := labels.NewRequirement(kubeciv1.LabelWorkplan, selection.Exists, nil)
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: f.metricsAddr},
		HealthProbeBindAddress:  f.probeAddr,
		PprofBindAddress:        f.pprofAddr,
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        "kubeci-operator.kube.ci",
		LeaderElectionNamespace: f.leaderElectionNS,
		Cache: cache.Options{
			ByObject: map[client.Object]cache.ByObject{
				&corev1.Pod{}: {Label: labels.NewSelector().Add(*ownPods)},
			},
			// Nothing reads managed fields from the cache, and they are
			// large: a Workflow's name every key of its status record.
			DefaultTransform: cache.TransformStripManagedFields(),
		},
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	// Each controller creates its reconciler from the manager and its
	// options.
	if _, err := workflow.SetupWithManager(mgr, f.workflow); err != nil {
		return fmt.Errorf("setting up the Workflow controller: %w", err)
	}
	if _, err := workplan.SetupWithManager(mgr, f.workplan); err != nil {
		return fmt.Errorf("setting up the Workplan controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	log.Info("starting kubeci-operator", "version", version.String())
	return mgr.Start(ctrl.SetupSignalHandler())
}
