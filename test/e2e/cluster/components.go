package cluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
)

// component is one process of the cluster: how to start it and how to tell
// that it serves.
type component struct {
	name    string
	binary  string
	args    []string
	timeout time.Duration
	ready   func(ctx context.Context) error
}

// Component names, also the names of their log and pid files. stopOrder is
// the order Down stops them in: first what starts pods, then what runs them,
// then the control plane.
var stopOrder = []string{"kubelet", "kube-proxy", "kube-scheduler", "kube-controller-manager", "containerd", "kube-apiserver", "etcd"}

func etcd(c *Config) component {
	client := fmt.Sprintf("http://127.0.0.1:%d", EtcdPort)
	peer := fmt.Sprintf("http://127.0.0.1:%d", EtcdPeerPort)
	return component{
		name:   "etcd",
		binary: filepath.Join(c.K8sBin, "etcd"),
		args: []string{
			"--name=kubeci-e2e",
			"--data-dir=" + c.Path("etcd"),
			"--listen-client-urls=" + client,
			"--advertise-client-urls=" + client,
			"--listen-peer-urls=" + peer,
			"--initial-advertise-peer-urls=" + peer,
			"--initial-cluster=kubeci-e2e=" + peer,
			"--logger=zap",
		},
		timeout: time.Minute,
		ready:   httpCheck(client+"/health", nil),
	}
}

func containerd(c *Config) component {
	return component{
		name:    "containerd",
		binary:  "/usr/bin/containerd",
		args:    []string{"--config", c.Path("containerd", "config.toml")},
		timeout: time.Minute,
		ready: func(ctx context.Context) error {
			out, err := ctr(c, "version")
			if err != nil {
				return fmt.Errorf("%w: %s", err, out)
			}
			return nil
		},
	}
}

func kubeAPIServer(c *Config, cs *kubernetes.Clientset) component {
	pki := func(f string) string { return c.Path("pki", f) }
	return component{
		name:   "kube-apiserver",
		binary: filepath.Join(c.K8sBin, "kube-apiserver"),
		args: []string{
			"--etcd-servers=" + fmt.Sprintf("http://127.0.0.1:%d", EtcdPort),
			"--bind-address=" + NodeIP,
			"--advertise-address=" + NodeIP,
			"--secure-port=" + strconv.Itoa(APIServerPort),
			"--tls-cert-file=" + pki("apiserver.crt"),
			"--tls-private-key-file=" + pki("apiserver.key"),
			"--client-ca-file=" + pki("ca.crt"),
			"--service-account-key-file=" + pki("sa.pub"),
			"--service-account-signing-key-file=" + pki("sa.key"),
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-cluster-ip-range=" + ServiceCIDR,
			"--authorization-mode=Node,RBAC",
			"--enable-admission-plugins=NodeRestriction",
			"--allow-privileged=true",
			"--kubelet-preferred-address-types=Hostname",
			"--kubelet-certificate-authority=" + pki("ca.crt"),
			"--kubelet-client-certificate=" + pki("apiserver-kubelet-client.crt"),
			"--kubelet-client-key=" + pki("apiserver-kubelet-client.key"),
			"--profiling=false",
		},
		timeout: 2 * time.Minute,
		ready: func(ctx context.Context) error {
			_, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
			return err
		},
	}
}

func kubeControllerManager(c *Config) component {
	kubeconfig := c.Path("controller-manager.kubeconfig")
	return component{
		name:   "kube-controller-manager",
		binary: filepath.Join(c.K8sBin, "kube-controller-manager"),
		args: []string{
			"--kubeconfig=" + kubeconfig,
			"--authentication-kubeconfig=" + kubeconfig,
			"--authorization-kubeconfig=" + kubeconfig,
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(ControllerManagerPort),
			"--leader-elect=false",
			"--use-service-account-credentials=true",
			"--service-account-private-key-file=" + c.Path("pki", "sa.key"),
			"--root-ca-file=" + c.Path("pki", "ca.crt"),
			"--cluster-signing-cert-file=" + c.Path("pki", "ca.crt"),
			"--cluster-signing-key-file=" + c.Path("pki", "ca.key"),
			"--profiling=false",
		},
		timeout: time.Minute,
		ready:   httpCheck(fmt.Sprintf("https://127.0.0.1:%d/healthz", ControllerManagerPort), insecureTLS),
	}
}

func kubeScheduler(c *Config) component {
	kubeconfig := c.Path("scheduler.kubeconfig")
	return component{
		name:   "kube-scheduler",
		binary: filepath.Join(c.K8sBin, "kube-scheduler"),
		args: []string{
			"--kubeconfig=" + kubeconfig,
			"--authentication-kubeconfig=" + kubeconfig,
			"--authorization-kubeconfig=" + kubeconfig,
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(SchedulerPort),
			"--leader-elect=false",
			"--profiling=false",
		},
		timeout: time.Minute,
		ready:   httpCheck(fmt.Sprintf("https://127.0.0.1:%d/healthz", SchedulerPort), insecureTLS),
	}
}

func kubeProxy(c *Config) component {
	return component{
		name:    "kube-proxy",
		binary:  filepath.Join(c.K8sBin, "kube-proxy"),
		args:    []string{"--config=" + c.Path("kube-proxy.yaml")},
		timeout: time.Minute,
		ready:   httpCheck(fmt.Sprintf("http://127.0.0.1:%d/livez", KubeProxyHealthzPort), nil),
	}
}

func kubelet(c *Config) component {
	return component{
		name:   "kubelet",
		binary: filepath.Join(c.K8sBin, "kubelet"),
		args: []string{
			"--config=" + c.Path("kubelet", "config.yaml"),
			"--kubeconfig=" + c.Path("kubelet.kubeconfig"),
			"--root-dir=" + c.Path("kubelet"),
			"--hostname-override=" + NodeName,
			"--node-ip=" + NodeIP,
		},
		timeout: 2 * time.Minute,
		ready:   httpCheck(fmt.Sprintf("http://127.0.0.1:%d/healthz", KubeletHealthzPort), nil),
	}
}

// insecureTLS is for the health endpoints of kube-controller-manager and
// kube-scheduler, which serve a self-signed certificate.
var insecureTLS = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // loopback health check only

// httpCheck succeeds when GET url answers 200.
func httpCheck(url string, tlsConfig *tls.Config) func(context.Context) error {
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: tlsConfig,
		DialContext:     (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
	}}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
		}
		return nil
	}
}
