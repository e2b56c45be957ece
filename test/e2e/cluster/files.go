package cluster

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/kubeci/kubeci/test/e2e/images"
)

// cniBinDir is where Debian's containernetworking-plugins installs the plugins.
const cniBinDir = "/usr/lib/cni"

// writeConfigFiles writes the configuration of containerd, CNI, the kubelet and
// kube-proxy, and the pods' resolv.conf, into the state folder.
func writeConfigFiles(c *Config) error {
	files := map[string]string{
		c.Path("containerd", "config.toml"):          containerdConfig(c),
		c.Path("cni", "net.d", "10-kubeci.conflist"): cniConfig(c),
		c.Path("kubelet", "config.yaml"):             kubeletConfig(c),
		c.Path("kube-proxy.yaml"):                    kubeProxyConfig(c),
		c.Path("resolv.conf"):                        resolvConf,
	}
	for file, content := range files {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// containerdConfig keeps containerd's root, state, socket and plugin folders in
// the state folder. Settings this machine needs:
//   - restrict_oom_score_adj: the machine lacks CAP_SYS_RESOURCE; without it
//     every sandbox fails ("can't get final child's PID from pipe");
//   - sandbox_image: the local pause image (nothing can be pulled);
//   - netns_mounts_under_state_dir: network namespaces are bind-mounted in the
//     state folder instead of /var/run/netns, so teardown finds them; runc's
//     state (options.Root) is there too, instead of /run/containerd/runc.
func containerdConfig(c *Config) string {
	return fmt.Sprintf(`# Kube CI end-to-end cluster: private containerd (not /etc/containerd).
version = 2
root = %[1]q
state = %[2]q

[grpc]
  address = %[3]q

[plugins."io.containerd.internal.v1.opt"]
  path = %[4]q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %[5]q
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = %[8]q
        SystemdCgroup = false

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %[6]q
    conf_dir = %[7]q
    max_conf_num = 1
`, c.Path("containerd", "root"), c.Path("containerd", "state"), c.ContainerdSocket(),
		c.Path("containerd", "opt"), images.Pause, cniBinDir, c.Path("cni", "net.d"), c.Path("containerd", "runc"))
}

// cniConfig is a bridge + host-local + portmap network on Bridge. No
// masquerading: pods talk to the node and to each other only.
func cniConfig(c *Config) string {
	return fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": %[1]q,
  "plugins": [
    {
      "type": "bridge",
      "bridge": %[2]q,
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": %[3]q, "gateway": %[4]q}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": %[5]q
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, NetworkName, Bridge, PodSubnet, NodeIP, c.Path("cni", "ipam"))
}

// kubeletConfig: cgroupfs on cgroup v1 (failCgroupV1: false), swap tolerated,
// pods under CgroupRoot, eviction and image garbage collection relaxed so a
// small disk evicts nothing, webhook authentication and authorization against
// the API server, serving on loopback with a certificate the CA signed.
func kubeletConfig(c *Config) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: %[1]d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %[2]d
tlsCertFile: %[3]q
tlsPrivateKeyFile: %[4]q
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: %[5]q
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://%[6]s
cgroupDriver: cgroupfs
cgroupRoot: /%[7]s
failCgroupV1: false
failSwapOn: false
podLogsDir: %[8]q
resolvConf: %[9]q
clusterDomain: cluster.local
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  nodefs.available: "0%%"
  nodefs.inodesFree: "0%%"
  imagefs.available: "0%%"
  imagefs.inodesFree: "0%%"
rotateCertificates: false
serverTLSBootstrap: false
`, KubeletPort, KubeletHealthzPort, c.Path("pki", "kubelet.crt"), c.Path("pki", "kubelet.key"),
		c.Path("pki", "ca.crt"), c.ContainerdSocket(), CgroupRoot, c.Path("pod-logs"), c.Path("resolv.conf"))
}

// kubeProxyConfig: iptables mode, leaving the machine's conntrack and
// route_localnet sysctls alone.
func kubeProxyConfig(c *Config) string {
	return fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: %[1]q
hostnameOverride: %[2]s
bindAddress: %[3]s
healthzBindAddress: 127.0.0.1:%[4]d
metricsBindAddress: 127.0.0.1:%[5]d
clusterCIDR: %[6]s
iptables:
  localhostNodePorts: false
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, c.Path("kube-proxy.kubeconfig"), NodeName, NodeIP, KubeProxyHealthzPort, KubeProxyMetricsPort, ClusterCIDR)
}

// resolvConf has no name server: there is no cluster DNS, and pods must not
// send queries to the machine's resolver.
const resolvConf = "# Kube CI end-to-end cluster: no DNS.\noptions ndots:1\n"
