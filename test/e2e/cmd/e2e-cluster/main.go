// Command e2e-cluster brings the end-to-end cluster up and down by hand, for
// developing end-to-end tests against a cluster that stays up:
//
//	e2e-cluster up                 bring a cluster up and keep it running (make e2e-up)
//	e2e-cluster down               tear it down, or whatever a crashed run left (make e2e-down)
//	e2e-cluster down --leftovers   tear down only what a crashed test run left
//	e2e-cluster status             say whether a cluster is up and how to reach it
//	e2e-cluster image BINARY NAME  build an image around a static binary and import it
//
// The state folder is /var/lib/kubeci-e2e, or KUBECI_E2E_DIR.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/kubeci/kubeci/test/e2e/cluster"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "e2e-cluster: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: e2e-cluster up|down [--leftovers]|status|image BINARY NAME")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir := cluster.DirFromEnv()
	switch args[0] {
	case "up":
		if os.Getenv(envSupervisor) == "" {
			return startSupervisor()
		}
		return supervise(ctx, dir)
	case "down":
		fs := flag.NewFlagSet("down", flag.ContinueOnError)
		leftovers := fs.Bool("leftovers", false, "tear down only what a crashed test run left, not a cluster kept up on purpose")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *leftovers {
			return cluster.LeftoversDown(ctx, dir, nil)
		}
		if err := cluster.Down(ctx, dir, nil); err != nil {
			return err
		}
		fmt.Printf("Torn down. The last cluster's logs are in %s\n", cluster.LogsDir(dir))
		return nil
	case "status":
		c, err := cluster.LoadConfig(dir)
		if err != nil {
			fmt.Printf("No cluster in %s.\n", dir)
			return nil
		}
		if _, err := cluster.Connect(ctx, c.Kubeconfig()); err != nil {
			fmt.Printf("A cluster was brought up in %s (at %s, kept: %t) but does not answer: %v\nTear it down with: make e2e-down\n", dir, c.Started, c.Keep, err)
			return nil
		}
		fmt.Printf("A cluster is up in %s (since %s, kept: %t).\n  export %s=%s\nLogs: %s\n", dir, c.Started, c.Keep, cluster.EnvKubeconfig, c.Kubeconfig(), c.LogDir())
		return nil
	case "image":
		if len(args) != 3 {
			return fmt.Errorf("usage: e2e-cluster image BINARY NAME (for example: e2e-cluster image bin/kubeci kubeci.local/kubeci-cli:e2e)")
		}
		c, err := cluster.LoadConfig(dir)
		if err != nil {
			return fmt.Errorf("no cluster in %s: bring one up with `make e2e-up` (%w)", dir, err)
		}
		cl, err := cluster.Connect(ctx, c.Kubeconfig())
		if err != nil {
			return err
		}
		if err := cl.ImportBinaryImage(args[1], args[2]); err != nil {
			return err
		}
		fmt.Printf("Imported %s from %s.\n", args[2], args[1])
		return nil
	}
	return fmt.Errorf("unknown command %q: use up, down, status or image", args[0])
}
