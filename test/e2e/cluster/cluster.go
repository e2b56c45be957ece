package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubeci/kubeci/internal/image"
)

// Cluster is a running cluster, brought up by this process (Up) or reused
// (Connect).
type Cluster struct {
	// Config locates the state folder, the kubeconfig and the binaries.
	Config *Config
	// RESTConfig reaches the API server as an administrator (system:masters).
	RESTConfig *rest.Config
	// Clientset is a client for the built-in kinds.
	Clientset *kubernetes.Clientset
	// Timings says how long Up took (zero for a reused cluster).
	Timings Timings

	owned    bool // brought up by this process
	lock     *machineLock
	procs    []*process
	logf     func(string, ...any)
	stopOnce sync.Once
	stopErr  error
}

// Connect reuses the cluster whose admin kubeconfig is kubeconfig (in its
// state folder, as `make e2e-up` prints). The cluster is left running by Stop.
func Connect(ctx context.Context, kubeconfig string) (*Cluster, error) {
	c, err := configFromKubeconfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	cl := &Cluster{Config: c, logf: stderrLogf}
	if err := cl.connect(); err != nil {
		return nil, err
	}
	if err := poll(ctx, 5*time.Second, func(ctx context.Context) error {
		_, err := cl.Clientset.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err
	}); err != nil {
		return nil, fmt.Errorf("the cluster of %s does not answer (%w): bring it up again with `make e2e-up`, or unset %s", kubeconfig, err, EnvKubeconfig)
	}
	return cl, nil
}

func (cl *Cluster) connect() error {
	cfg, err := clientcmd.BuildConfigFromFlags("", cl.Config.Kubeconfig())
	if err != nil {
		return fmt.Errorf("reading the kubeconfig %s: %w", cl.Config.Kubeconfig(), err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	cl.RESTConfig, cl.Clientset = cfg, cs
	return nil
}

// alive reports whether the API server of the cluster in c answers.
func alive(ctx context.Context, c *Config) bool {
	cl := &Cluster{Config: c}
	if cl.connect() != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err := cl.Clientset.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	return err == nil
}

// Kubeconfig is the administrator's kubeconfig file.
func (cl *Cluster) Kubeconfig() string { return cl.Config.Kubeconfig() }

// Stop tears the cluster down when this process brought it up, unless it is
// to be kept (Options.Keep), and releases the machine's lock. A reused cluster
// is left running. Stop can be called more than once.
func (cl *Cluster) Stop() error {
	cl.stopOnce.Do(func() {
		defer cl.lock.release()
		if !cl.owned {
			return
		}
		if cl.Config.Keep {
			cl.logf("cluster kept up; reuse it with %s=%s, stop it with `make e2e-down`", EnvKubeconfig, cl.Kubeconfig())
			return
		}
		cl.stopErr = down(cl.Config, cl.logf)
	})
	return cl.stopErr
}

// RunKubectl runs kubectl against the cluster and returns its standard output;
// the error holds its standard error.
func (cl *Cluster) RunKubectl(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(cl.Config.K8sBin, "kubectl"), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+cl.Kubeconfig())
	dieWithParent(cmd)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// ReadHostFile reads a file on the machine the cluster runs on (a hostPath
// volume's content, for instance). The tests run on that machine, so this
// is a plain read; it names the intent.
func (cl *Cluster) ReadHostFile(path string) ([]byte, error) {
	return os.ReadFile(path)
}

// ImportImage loads an image into the cluster's containerd under its name,
// or under names (tags or references by digest) when given; pods use it with
// imagePullPolicy IfNotPresent or Never.
func (cl *Cluster) ImportImage(img *image.Image, names ...string) error {
	return importImage(cl.Config, img, names...)
}

// ImportBinaryImage builds an image around a static binary (image.FromBinary:
// run as user 65532, the binary as entrypoint) and imports it.
func (cl *Cluster) ImportBinaryImage(binaryPath, imageName string) error {
	img, err := image.FromBinary(binaryPath, imageName)
	if err != nil {
		return err
	}
	return cl.ImportImage(img)
}

// ImportGoImage builds a command of this repository (a package such as
// ./test/e2e/cmd/apiprobe) as a static binary (image.GoBuild; ldflags are
// added to its own) and imports it as imageName with ImportBinaryImage.
func (cl *Cluster) ImportGoImage(ctx context.Context, pkg, imageName, ldflags string) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	out := filepath.Join(cl.Config.Path("images", "bin"), filepath.Base(pkg))
	if err := image.GoBuild(ctx, root, out, pkg, ldflags); err != nil {
		return err
	}
	return cl.ImportBinaryImage(out, imageName)
}

// LogFile is the log file of a component (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kube-proxy, containerd, kubelet).
func (cl *Cluster) LogFile(component string) string {
	return filepath.Join(cl.Config.LogDir(), component+".log")
}

// Wait blocks until every component this process started has exited: a
// process that keeps a cluster up (`e2e-cluster up`) stays their parent, so
// that they are reaped when Down stops them.
func (cl *Cluster) Wait() {
	for _, p := range cl.procs {
		<-p.done
	}
}
