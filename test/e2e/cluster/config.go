package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Environment variables the harness reads.
const (
	// EnvKubeconfig names the kubeconfig of a cluster kept up by `make e2e-up`;
	// when set, tests reuse that cluster and leave it running.
	EnvKubeconfig = "KUBECI_E2E_KUBECONFIG"
	// EnvDir overrides the state folder (default DefaultDir).
	EnvDir = "KUBECI_E2E_DIR"
	// EnvKeep, when set to a non-empty value, keeps the cluster up after the
	// tests (to look at a failure); `make e2e-down` stops it.
	EnvKeep = "KUBECI_E2E_KEEP"
	// EnvK8sBin names a folder holding the Kubernetes binaries; by default they
	// are built (once, cached) by hack/build-k8s.sh.
	EnvK8sBin = "KUBECI_E2E_K8S_BIN"
)

// DefaultDir is the state folder: certificates, configuration, logs, etcd's
// data, containerd's root and state, the kubelet's root, pod logs.
const DefaultDir = "/var/lib/kubeci-e2e"

// lockFile serialises the clusters of every checkout on the machine.
const lockFile = "/run/lock/kubeci-e2e.lock"

// The cluster's fixed names and addresses. Only one cluster runs on a machine.
const (
	// NodeName is the node's name; the API server reaches the kubelet by it
	// (--kubelet-preferred-address-types=Hostname), that is on loopback.
	NodeName = "localhost"
	// NodeIP is the CNI bridge's gateway address and the node's InternalIP;
	// kube-apiserver listens on it so that pods can reach it.
	NodeIP = "10.244.0.1"
	// PodSubnet is the bridge's subnet the pods get their addresses from.
	PodSubnet = "10.244.0.0/24"
	// ClusterCIDR is kube-proxy's idea of the pod network.
	ClusterCIDR = "10.244.0.0/16"
	// ServiceCIDR is the range of Service cluster IPs.
	ServiceCIDR = "10.96.0.0/16"
	// KubernetesServiceIP is the `kubernetes` Service's cluster IP.
	KubernetesServiceIP = "10.96.0.1"
	// Bridge is the CNI bridge's interface name.
	Bridge = "kubeci0"
	// NetworkName is the CNI network's name.
	NetworkName = "kubeci-e2e"
	// CgroupRoot is the cgroup every pod lives under (in each v1 hierarchy).
	CgroupRoot = "kubeci-e2e"

	APIServerPort         = 16443
	EtcdPort              = 12379
	EtcdPeerPort          = 12380
	KubeletPort           = 10250
	KubeletHealthzPort    = 10248
	ControllerManagerPort = 10257
	SchedulerPort         = 10259
	KubeProxyHealthzPort  = 10256
	KubeProxyMetricsPort  = 10249
)

// Config locates a cluster's state. It is saved as cluster.json in the state
// folder so that `down`, and tests reusing a kept-up cluster, find everything.
type Config struct {
	// Dir is the state folder.
	Dir string `json:"dir"`
	// Root is the repository's root folder.
	Root string `json:"root"`
	// K8sBin holds kube-apiserver, kubelet, etcd and the other binaries.
	K8sBin string `json:"k8sBin"`
	// Keep marks a cluster kept up after the process that started it exits
	// (`make e2e-up`, or KUBECI_E2E_KEEP): only Down stops it.
	Keep bool `json:"keep"`
	// Started is when the cluster was brought up, and PID the process that did.
	Started time.Time `json:"started"`
	PID     int       `json:"pid"`
}

// DirFromEnv is the state folder: KUBECI_E2E_DIR, else DefaultDir.
func DirFromEnv() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	return DefaultDir
}

// Path is a file or folder inside the state folder.
func (c *Config) Path(elem ...string) string {
	return filepath.Join(append([]string{c.Dir}, elem...)...)
}

// Kubeconfig is the administrator's kubeconfig (group system:masters).
func (c *Config) Kubeconfig() string { return c.Path("kubeconfig") }

// ContainerdSocket is the private containerd's socket.
func (c *Config) ContainerdSocket() string { return c.Path("containerd", "containerd.sock") }

// LogDir holds one log file per component.
func (c *Config) LogDir() string { return c.Path("logs") }

// APIServerURL is where kube-apiserver listens.
func (c *Config) APIServerURL() string {
	return fmt.Sprintf("https://%s:%d", NodeIP, APIServerPort)
}

func (c *Config) stateFile() string { return c.Path("cluster.json") }

func (c *Config) save() error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(c.stateFile(), append(data, '\n'), 0o644)
}

// LoadConfig reads the cluster.json of the state folder dir. It returns an
// error wrapping os.ErrNotExist when no cluster was brought up there.
func LoadConfig(dir string) (*Config, error) {
	c := &Config{Dir: dir}
	data, err := os.ReadFile(c.stateFile())
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("reading %s: %w (remove the folder %s, or run `make e2e-down`)", c.stateFile(), err, dir)
	}
	if c.Dir != dir {
		return nil, fmt.Errorf("%s describes the state folder %s, not %s: it was moved; remove it by hand", c.stateFile(), c.Dir, dir)
	}
	return c, nil
}

// configFromKubeconfig finds the cluster a kubeconfig belongs to: the
// kubeconfig lies in the cluster's state folder, next to cluster.json.
func configFromKubeconfig(kubeconfig string) (*Config, error) {
	abs, err := filepath.Abs(kubeconfig)
	if err != nil {
		return nil, err
	}
	c, err := LoadConfig(filepath.Dir(abs))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s=%s: no cluster.json next to it; point it at the kubeconfig `make e2e-up` printed", EnvKubeconfig, kubeconfig)
	}
	return c, err
}
