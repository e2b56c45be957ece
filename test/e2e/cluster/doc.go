// Package cluster brings up, and tears down, the single-node Kubernetes cluster
// the end-to-end tests run on: etcd, kube-apiserver, kube-controller-manager,
// kube-scheduler, kube-proxy, containerd and the kubelet, all on this machine,
// all with their state in one private folder (Config.Dir, by default
// /var/lib/kubeci-e2e), none of them touching the machine's own configuration
// of containerd or CNI.
//
// Tests use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(cluster.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		c := cluster.Get(t)
//		out := c.Kubectl(t, "get", "pods", "-A")
//		...
//	}
//
// Main brings the cluster up (or reuses the one `make e2e-up` keeps up when
// KUBECI_E2E_KUBECONFIG names its kubeconfig), runs the tests and tears it down,
// also on SIGINT or SIGTERM. Down also removes what a crashed run left behind
// (processes, mounts, network namespaces, the CNI bridge, iptables rules,
// cgroups and the state folder), and Up runs it first.
//
// Only one cluster runs on a machine at a time: it uses fixed ports, a bridge
// and kube-proxy's iptables chains. A lock (/run/lock/kubeci-e2e.lock)
// serialises test runs from several checkouts.
//
// The network: the node's address is the CNI bridge's gateway (10.244.0.1), a
// host-local address that no traffic leaves the machine for. kube-apiserver
// listens there, advertises it as the endpoint of the `kubernetes` Service, and
// kube-proxy (iptables mode) routes the Service's address (10.96.0.1:443) to it,
// so pods reach the API server exactly as in any cluster, with their
// ServiceAccount token and kube-root-ca.crt. Pods cannot reach anything beyond
// the machine: an iptables rule drops traffic the bridge would forward out.
package cluster
