package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"strings"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// scheme holds the kinds the cluster commands read: Kube CI's and the
// built-in ones (events, pods).
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(kubeciv1.AddToScheme(s))
	return s
}()

// cluster is a connection to the cluster the kubeconfig flags name.
type cluster struct {
	// Client reads, patches and watches objects.
	Client client.WithWatch
	// Kube reads container logs (the pods/log subresource).
	Kube kubernetes.Interface
	// Namespace is the namespace given with -n, else the kubeconfig context's,
	// else "default".
	Namespace string
	// Host is the API server's address, for error messages.
	Host string

	// waiting is Options.waiting.
	waiting func(client.Object)
}

// waitingAfter tells the waiting hook, if any, that a watch goes on waiting
// after obj; it returns done.
func (c *cluster) waitingAfter(obj client.Object, done bool) bool {
	if !done && c.waiting != nil && obj != nil && !reflect.ValueOf(obj).IsNil() {
		c.waiting(obj)
	}
	return done
}

// connect builds clients from the standard kubeconfig flags. API server
// warnings go to standard error.
func (o *Options) connect() (*cluster, error) {
	noConfig := errors.New("no cluster to talk to: no kubeconfig found; use --kubeconfig FILE, set KUBECONFIG, or run inside a pod")
	cfg, err := o.ConfigFlags.ToRESTConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, noConfig
		}
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	// Without a kubeconfig, client-go falls back to http://localhost:8080.
	if raw, err := o.ConfigFlags.ToRawKubeConfigLoader().RawConfig(); err == nil && len(raw.Clusters) == 0 &&
		(o.ConfigFlags.APIServer == nil || *o.ConfigFlags.APIServer == "") && os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
		return nil, noConfig
	}
	ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, fmt.Errorf("reading the namespace from the kubeconfig: %w", err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = rest.NewWarningWriter(o.ErrOut, rest.WarningWriterOptions{Deduplicate: true})
	// Log: the client's own logger would complain on standard error that no
	// logger was set up (controller-runtime's, meant for operators).
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme, Log: logr.Discard()})
	if err != nil {
		return nil, explain(err, cfg.Host)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &cluster{Client: c, Kube: kube, Namespace: ns, Host: cfg.Host, waiting: o.waiting}, nil
}

// explain turns the errors every cluster command can meet into messages that
// say what to do: Kube CI not installed, the cluster unreachable, access
// denied. Other errors are returned unchanged.
func explain(err error, host string) error {
	var netErr net.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return err
	case meta.IsNoMatchError(err):
		return fmt.Errorf("the cluster at %s does not serve kube.ci/v1alpha1: Kube CI is not installed there "+
			"(install it with kubectl apply -k config/default)", host)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%w\n(kubeci acts with your own credentials: ask for the kubeci-view role to read runs, "+
			"kubeci-edit to trigger and cancel them; the README lists what each command needs)", err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the cluster at %s did not accept your credentials: %w (check --kubeconfig and --context)", host, err)
	case errors.As(err, &netErr) || strings.Contains(err.Error(), "connection refused"):
		return fmt.Errorf("cannot reach the cluster at %s: %w (check --kubeconfig and --context)", host, err)
	}
	return err
}

// notFound says which object was missing and how to list the ones there are.
func notFound(kind, name, namespace string) error {
	return fmt.Errorf("%s %q not found in namespace %q (kubeci get %ss -n %s lists them)", kind, name, namespace, kind, namespace)
}

// getError explains an error reading kind/name.
func (c *cluster) getError(err error, kind, name string) error {
	if apierrors.IsNotFound(err) {
		return notFound(kind, name, c.Namespace)
	}
	return explain(err, c.Host)
}
