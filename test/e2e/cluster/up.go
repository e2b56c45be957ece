package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Options tune Up.
type Options struct {
	// Dir is the state folder (default DirFromEnv()).
	Dir string
	// Keep leaves the cluster running when the process exits; only Down stops it.
	Keep bool
	// Logf reports progress (default: to standard error).
	Logf func(format string, args ...any)
}

// Timings records how long bring-up took, for reports.
type Timings struct {
	// Assets is the time spent installing packages and building (or finding)
	// the Kubernetes binaries.
	Assets time.Duration
	// Cluster is the time from the first component's start to a Ready node
	// with a default ServiceAccount.
	Cluster time.Duration
	// Total includes the assets and the teardown of leftovers.
	Total time.Duration
}

// Up brings the cluster up: it takes the machine's lock, tears down what an
// earlier run left, installs the packages and binaries it needs, writes the
// certificates and configuration, starts the components in order and waits
// until the node is Ready and the default ServiceAccount exists. On failure it
// tears down what it started and returns an error holding the end of the
// failing component's log. The returned cluster holds the lock until Stop.
func Up(ctx context.Context, opts Options) (cl *Cluster, err error) {
	if reason := Unsupported(); reason != "" {
		return nil, errors.New(reason)
	}
	if opts.Dir == "" {
		opts.Dir = DirFromEnv()
	}
	logf := opts.Logf
	if logf == nil {
		logf = stderrLogf
	}
	begin := time.Now()
	lock, err := acquireLock(ctx, logf)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.release()
		}
	}()
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	if err := removeLeftovers(ctx, opts.Dir, logf); err != nil {
		return nil, err
	}

	assetsStart := time.Now()
	if err := installPackages(logf); err != nil {
		return nil, err
	}
	bin, err := k8sBinaries(root)
	if err != nil {
		return nil, err
	}
	c := &Config{Dir: opts.Dir, Root: root, K8sBin: bin, Keep: opts.Keep, Started: time.Now(), PID: os.Getpid()}
	cl = &Cluster{Config: c, owned: true, lock: lock, logf: logf}
	cl.Timings.Assets = time.Since(assetsStart)

	clusterStart := time.Now()
	if err := cl.start(ctx); err != nil {
		if downErr := down(c, logf); downErr != nil {
			err = errors.Join(err, fmt.Errorf("tearing down after the failure: %w", downErr))
		}
		return nil, fmt.Errorf("bringing up the end-to-end cluster: %w\n(the component logs are kept in %s)", err, filepath.Join(LogsDir(c.Dir), "logs"))
	}
	cl.Timings.Cluster = time.Since(clusterStart)
	cl.Timings.Total = time.Since(begin)
	logf("cluster up in %s (%s for packages and binaries, %s in all); kubeconfig: %s",
		cl.Timings.Cluster.Round(10*time.Millisecond), cl.Timings.Assets.Round(10*time.Millisecond),
		cl.Timings.Total.Round(10*time.Millisecond), c.Kubeconfig())
	return cl, nil
}

// removeLeftovers tears down what an earlier run left in dir, unless it is a
// live cluster kept up by `make e2e-up`, which it refuses to touch.
func removeLeftovers(ctx context.Context, dir string, logf func(string, ...any)) error {
	prev, err := LoadConfig(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		prev = &Config{Dir: dir}
	case err != nil:
		logf("%v; tearing down what it can", err)
		prev = &Config{Dir: dir}
	case prev.Keep && alive(ctx, prev):
		return fmt.Errorf("a cluster kept up by `make e2e-up` runs in %s: reuse it with %s=%s, or stop it with `make e2e-down`",
			dir, EnvKubeconfig, prev.Kubeconfig())
	default:
		logf("tearing down the cluster an earlier run left in %s (started %s by process %d)", dir, prev.Started.Format(time.RFC3339), prev.PID)
	}
	if err := down(prev, logf); err != nil {
		return fmt.Errorf("tearing down an earlier run's leftovers: %w", err)
	}
	return nil
}

// start prepares the state folder and starts the components in order.
func (cl *Cluster) start(ctx context.Context) error {
	c := cl.Config
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return err
	}
	if err := saveSysctls(c); err != nil {
		return err
	}
	if err := c.save(); err != nil {
		return err
	}
	if err := writePKI(c.Path("pki")); err != nil {
		return fmt.Errorf("writing certificates: %w", err)
	}
	if err := writeKubeconfigs(c); err != nil {
		return fmt.Errorf("writing kubeconfigs: %w", err)
	}
	if err := writeConfigFiles(c); err != nil {
		return err
	}
	if err := createCgroupRoot(); err != nil {
		return err
	}
	if err := setUpNetwork(); err != nil {
		return fmt.Errorf("setting up the bridge %s: %w", Bridge, err)
	}
	if err := cl.connect(); err != nil {
		return err
	}

	// etcd and containerd first; the images are imported while the API server starts.
	if err := cl.run(ctx, etcd(c), containerd(c)); err != nil {
		return err
	}
	imported := make(chan error, 1)
	go func() { imported <- importBaseImages(c) }()
	if err := cl.run(ctx, kubeAPIServer(c, cl.Clientset)); err != nil {
		<-imported
		return err
	}
	if err := deleteStaleNodes(ctx, cl.Clientset); err != nil {
		<-imported
		return err
	}
	if err := <-imported; err != nil {
		return err
	}
	if err := cl.run(ctx, kubeControllerManager(c), kubeScheduler(c), kubeProxy(c), kubelet(c)); err != nil {
		return err
	}
	return waitForCluster(ctx, cl.Clientset)
}

// run starts components together, then waits until each is ready.
func (cl *Cluster) run(ctx context.Context, comps ...component) error {
	started := make([]*process, 0, len(comps))
	for _, comp := range comps {
		p, err := startProcess(cl.Config, comp.name, comp.binary, comp.args...)
		if err != nil {
			return err
		}
		started = append(started, p)
		cl.procs = append(cl.procs, p)
	}
	errs := make([]error, len(comps))
	var wg sync.WaitGroup
	t := time.Now()
	for i, comp := range comps {
		wg.Go(func() {
			errs[i] = started[i].waitReady(ctx, comp.timeout, comp.ready)
			if errs[i] == nil {
				cl.logf("%s ready (%s)", comp.name, time.Since(t).Round(10*time.Millisecond))
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// deleteStaleNodes deletes Node objects before the kubelet registers: any Node
// then is one whose kubelet is gone, and the scheduler could pick it.
func deleteStaleNodes(ctx context.Context, cs kubernetes.Interface) error {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing nodes: %w", err)
	}
	for _, n := range nodes.Items {
		if err := cs.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{}); err != nil {
			return fmt.Errorf("deleting stale node %s: %w", n.Name, err)
		}
	}
	return nil
}

func stderrLogf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "e2e %s: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}
