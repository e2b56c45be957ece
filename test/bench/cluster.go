package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kubeci/kubeci/internal/testenv"
)

// cluster is a running kube-apiserver and etcd (envtest), started by this
// process so that their CPU time can be read from /proc.
type cluster struct {
	env *testenv.Env
	// client is uncached and not rate-limited.
	client client.WithWatch
	kube   kubernetes.Interface
	// kubeconfig is a file with the administrator's credentials, for the
	// operator.
	kubeconfig string
	// pids of kube-apiserver and etcd.
	apiserverPID, etcdPID int
}

// startCluster starts a control plane and writes its kubeconfig into dir.
func startCluster(dir string) (*cluster, error) {
	env, err := testenv.Start()
	if err != nil {
		return nil, err
	}
	c := &cluster{env: env}
	if err := c.init(dir); err != nil {
		_ = env.Stop()
		return nil, err
	}
	return c, nil
}

func (c *cluster) init(dir string) error {
	cfg := rest.CopyConfig(c.env.Config)
	cfg.QPS, cfg.Burst = -1, 0 // the harness must not be the bottleneck
	var err error
	if c.client, err = client.NewWithWatch(cfg, client.Options{Scheme: c.env.Scheme}); err != nil {
		return err
	}
	if c.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if c.apiserverPID, err = childPID("kube-apiserver"); err != nil {
		return err
	}
	if c.etcdPID, err = childPID("etcd"); err != nil {
		return err
	}
	c.kubeconfig = filepath.Join(dir, "kubeconfig")
	return writeKubeconfig(c.env.Config, c.kubeconfig)
}

// stop stops the control plane.
func (c *cluster) stop() error { return c.env.Stop() }

// writeKubeconfig writes cfg's server and credentials to path.
func writeKubeconfig(cfg *rest.Config, path string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken,
	}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return clientcmd.WriteToFile(*kc, path)
}

// namespace creates a namespace named name, in which the default
// ServiceAccount may list and watch ConfigMaps (Workflows' triggers are
// checked with access reviews).
func (c *cluster) namespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.client.Create(ctx, ns); err != nil {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return c.grantConfigMaps(ctx, name, name)
}

// grantConfigMaps lets the default ServiceAccount of saNamespace list and
// watch ConfigMaps in ns.
func (c *cluster) grantConfigMaps(ctx context.Context, ns, saNamespace string) error {
	name := "bench-watch-configmaps-" + saNamespace
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "watch"}}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default", Namespace: saNamespace}},
	}
	for _, obj := range []client.Object{role, binding} {
		if err := c.client.Create(ctx, obj); err != nil {
			return fmt.Errorf("granting %s:default access to ConfigMaps in %s: %w", saNamespace, ns, err)
		}
	}
	return nil
}

// metrics scrapes kube-apiserver's /metrics.
func (c *cluster) metrics(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	data, err := c.kube.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading kube-apiserver /metrics: %w", err)
	}
	return parseMetrics(string(data))
}

// watches returns how many WATCH requests kube-apiserver is serving, by
// resource.
func (c *cluster) watches(ctx context.Context) (map[string]int, error) {
	mfs, err := c.metrics(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	mf := mfs["apiserver_longrunning_requests"]
	if mf == nil {
		return nil, fmt.Errorf("kube-apiserver's /metrics has no apiserver_longrunning_requests")
	}
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["verb"] != "WATCH" {
			continue
		}
		res := labels["resource"]
		if g := labels["group"]; g != "" {
			res += "." + g
		}
		if n := int(m.GetGauge().GetValue()); n > 0 {
			out[res] += n
		}
	}
	return out, nil
}

// requests returns how many requests kube-apiserver has served, by
// "VERB resource[/subresource]".
func (c *cluster) requests(ctx context.Context) (map[string]float64, error) {
	mfs, err := c.metrics(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, m := range mfs["apiserver_request_duration_seconds"].GetMetric() {
		l := map[string]string{}
		for _, lp := range m.GetLabel() {
			l[lp.GetName()] = lp.GetValue()
		}
		key := l["verb"] + " " + l["resource"]
		if l["subresource"] != "" {
			key += "/" + l["subresource"]
		}
		out["seconds "+key] += m.GetHistogram().GetSampleSum()
	}
	for _, m := range mfs["apiserver_request_total"].GetMetric() {
		l := map[string]string{}
		for _, lp := range m.GetLabel() {
			l[lp.GetName()] = lp.GetValue()
		}
		key := l["verb"] + " " + l["resource"]
		if l["subresource"] != "" {
			key += "/" + l["subresource"]
		}
		out[key] += m.GetCounter().GetValue()
	}
	return out, nil
}

// profile saves a CPU profile of kube-apiserver over seconds into path.
func (c *cluster) profile(ctx context.Context, seconds int, path string) error {
	data, err := c.kube.Discovery().RESTClient().Get().AbsPath("/debug/pprof/profile").
		Param("seconds", strconv.Itoa(seconds)).Timeout(time.Duration(seconds+30) * time.Second).DoRaw(ctx)
	if err != nil {
		return fmt.Errorf("profiling kube-apiserver: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// parseMetrics parses Prometheus' text format.
func parseMetrics(text string) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(strings.NewReader(text))
}

// poll calls cond every interval until it returns true or an error, or
// timeout passes.
func poll(ctx context.Context, interval, timeout time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
