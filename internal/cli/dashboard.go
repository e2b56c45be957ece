package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/kubeci/kubeci/internal/dashboard"
)

// dashboardOptions are the flags of `kubeci dashboard`.
type dashboardOptions struct {
	address string
	port    int
	open    bool
	auth    string
}

func newDashboardCommand(o *Options) *cobra.Command {
	d := &dashboardOptions{}
	cmd := &cobra.Command{
		Use:   "dashboard [--port N] [--open] [--auth kubeconfig|token]",
		Short: "Serve the web dashboard: Workflows, live run graphs and logs, trigger, cancel, rerun",
		Long: `Serve Kube CI's web dashboard on http://127.0.0.1:PORT: the Workflows of a
namespace, a Workflow's step graph and runs, a run's live graph and logs, and
Trigger, Cancel and Rerun buttons.

With --auth kubeconfig (the default) every read and action is made with your
kubeconfig's credentials, like kubectl proxy, so the dashboard can never do
more than you. It listens on the loopback address only, unless --address says
otherwise, and answers only to requests for that address.

With --auth token the dashboard is meant to run inside the cluster (see
config/dashboard): each viewer logs in with a bearer token (for example the
output of kubectl create token NAME) and every call is made as that token;
without one, calls are anonymous. The dashboard's own ServiceAccount is never
used for the viewers' requests.`,
		Example: `  kubeci dashboard --open
  kubeci dashboard --port 9090 -n ci
  kubeci dashboard --auth token --address 0.0.0.0 --port 8080   # in a pod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return d.run(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&d.address, "address", "127.0.0.1", "The address to listen on")
	f.IntVar(&d.port, "port", 8080, "The port to listen on (0 picks a free one)")
	f.BoolVar(&d.open, "open", false, "Open the dashboard in a browser")
	f.StringVar(&d.auth, "auth", string(dashboard.AuthKubeconfig), "Whose credentials to act with: kubeconfig (yours) or token (each viewer's, in a cluster)")
	return cmd
}

func (d *dashboardOptions) run(ctx context.Context, o *Options) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := dashboard.Options{Auth: dashboard.AuthMode(d.auth)}
	switch opts.Auth {
	case dashboard.AuthKubeconfig:
		c, err := o.connect()
		if err != nil {
			return err
		}
		cfg, err := o.ConfigFlags.ToRESTConfig()
		if err != nil {
			return err
		}
		opts.Config, opts.Namespace = cfg, c.Namespace
	case dashboard.AuthToken:
		cfg, err := rest.InClusterConfig()
		if err != nil {
			// Outside a cluster: the kubeconfig's server and CA, none of its
			// credentials.
			if cfg, err = o.ConfigFlags.ToRESTConfig(); err != nil {
				return fmt.Errorf("--auth token needs the API server's address: run in a pod, or give --kubeconfig: %w", err)
			}
		}
		opts.Config = rest.AnonymousClientConfig(cfg)
		if ns, _, err := o.ConfigFlags.ToRawKubeConfigLoader().Namespace(); err == nil {
			opts.Namespace = ns
		}
	default:
		return fmt.Errorf("--auth must be kubeconfig or token, not %q", d.auth)
	}

	ln, err := net.Listen("tcp", net.JoinHostPort(d.address, fmt.Sprint(d.port)))
	if err != nil {
		return fmt.Errorf("listening on %s port %d: %w (choose another with --port)", d.address, d.port, err)
	}
	addr := ln.Addr().String()
	if ip := net.ParseIP(d.address); ip != nil && ip.IsLoopback() {
		opts.Hosts = dashboard.LocalHosts(addr)
	}
	srv, err := dashboard.New(opts)
	if err != nil {
		return err
	}
	url := "http://" + addr + "/"
	fmt.Fprintf(o.Out, "Kube CI dashboard on %s (%s credentials); Ctrl-C stops it\n", url, opts.Auth)
	if d.open {
		if err := openBrowser(url); err != nil {
			fmt.Fprintf(o.ErrOut, "could not open a browser (%v): open %s yourself\n", err, url)
		}
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openBrowser opens url in the desktop's browser.
func openBrowser(url string) error {
	name, args := "xdg-open", []string{url}
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name, args = "rundll32", []string{"url.dll,FileProtocolHandler", url}
	}
	return exec.Command(name, args...).Start()
}
