package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/kubeci/kubeci/test/e2e/cluster"
)

// A cluster kept up needs a parent for its components: when they are stopped,
// their parent must reap them, and the machine's first process may not (then
// they linger as zombies). So `up` starts a copy of itself, the supervisor, in
// its own session; the supervisor brings the cluster up, reports through a
// pipe, detaches from it and waits for its components to exit.

// envSupervisor marks the supervisor process.
const envSupervisor = "KUBECI_E2E_SUPERVISOR"

// readyLine ends the supervisor's report when the cluster is up.
const readyLine = "e2e-cluster: supervisor ready"

// startSupervisor starts the supervisor, copies its report to standard error
// and returns once it says the cluster is up (or has failed).
func startSupervisor() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "up")
	cmd.Env = append(os.Environ(), envSupervisor+"=1")
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	w.Close()
	ready := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if sc.Text() == readyLine {
			ready = true
			continue
		}
		fmt.Fprintln(os.Stderr, sc.Text())
	}
	if !ready {
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("the cluster did not come up (%w)", err)
		}
		return fmt.Errorf("the cluster did not come up")
	}
	_ = cmd.Process.Release()
	return nil
}

// supervise brings the cluster up, prints how to use it, detaches from the
// report pipe and waits until Down stops the components.
func supervise(ctx context.Context, dir string) error {
	cl, err := cluster.Up(ctx, cluster.Options{Dir: dir, Keep: true})
	if err != nil {
		return err
	}
	if err := cl.Stop(); err != nil { // kept: only releases the machine's lock
		return err
	}
	fmt.Println(strings.Join([]string{
		"The cluster stays up (supervisor: process " + fmt.Sprint(os.Getpid()) + "). Use it with:",
		"  export " + cluster.EnvKubeconfig + "=" + cl.Kubeconfig(),
		"  export KUBECONFIG=" + cl.Kubeconfig(),
		"  " + cl.Config.K8sBin + "/kubectl get nodes",
		"Logs: " + cl.Config.LogDir(),
		"Stop it with: make e2e-down",
	}, "\n"))
	fmt.Println(readyLine)
	if err := detachOutput(); err != nil {
		return err
	}
	cl.Wait()
	return nil
}
