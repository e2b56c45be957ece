package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// buildOperator builds cmd/kubeci-operator into bin/kubeci-operator.
func buildOperator(ctx context.Context, root string) (string, error) {
	out := filepath.Join(root, "bin", "kubeci-operator")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/kubeci-operator")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the operator (go build ./cmd/kubeci-operator): %w", err)
	}
	return out, nil
}

// operator is a running kubeci-operator process.
type operator struct {
	cmd  *exec.Cmd
	done chan error
	log  *os.File

	metricsURL, readyzURL, pprofURL string

	// stopped is set by stop, which reads the last usage first.
	stopped   bool
	exitUsage usage
}

// startOperator starts binary with kubeconfig, its metrics, probes and pprof
// on free loopback ports, its log in logDir/operator-<label>.log, and waits
// until it is ready.
func startOperator(ctx context.Context, binary, kubeconfig, logDir, label string, extraArgs ...string) (*operator, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	metricsAddr, probeAddr, pprofAddr := loopback(ports[0]), loopback(ports[1]), loopback(ports[2])
	op := &operator{
		metricsURL: "http://" + metricsAddr + "/metrics",
		readyzURL:  "http://" + probeAddr + "/readyz",
		pprofURL:   "http://" + pprofAddr + "/debug/pprof",
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	if op.log, err = os.Create(filepath.Join(logDir, "operator-"+label+".log")); err != nil {
		return nil, err
	}
	args := append([]string{
		"--kubeconfig", kubeconfig,
		"--metrics-bind-address", metricsAddr,
		"--health-probe-bind-address", probeAddr,
		"--pprof-bind-address", pprofAddr,
		// Cleanup pods never run here (no kubelet): any image name will do.
		"--cleanup-image", "kubeci.invalid/kubeci-operator:bench",
	}, extraArgs...)
	op.cmd = exec.Command(binary, args...)
	op.cmd.Stdout, op.cmd.Stderr = op.log, op.log
	// Its own process group: an interrupted harness does not leave it behind
	// through the shell, and stop signals only it.
	op.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := op.cmd.Start(); err != nil {
		_ = op.log.Close()
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	op.done = make(chan error, 1)
	go func() { op.done <- op.cmd.Wait() }()
	err = poll(ctx, 50*time.Millisecond, time.Minute, "the operator to be ready", func() (bool, error) {
		select {
		case err := <-op.done:
			op.done <- err
			return false, fmt.Errorf("the operator exited (%v); see %s", err, op.log.Name())
		default:
		}
		resp, err := http.Get(op.readyzURL)
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		_ = op.stop()
		return nil, err
	}
	return op, nil
}

func (op *operator) pid() int { return op.cmd.Process.Pid }

// usage reads the operator's CPU time and memory; after stop, the last values
// read before it ended.
func (op *operator) usage() (usage, error) {
	if op.stopped {
		return op.exitUsage, nil
	}
	return readUsage(op.pid())
}

// stop sends SIGTERM, waits up to 20 s, then kills the operator.
func (op *operator) stop() error {
	if op.stopped {
		return nil
	}
	op.exitUsage, _ = readUsage(op.pid())
	op.stopped = true
	defer op.log.Close()
	_ = op.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-op.done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil // stopped by our signal
		}
		return err
	case <-time.After(20 * time.Second):
		_ = op.cmd.Process.Kill()
		<-op.done
		return fmt.Errorf("the operator did not stop within 20s of SIGTERM; killed it")
	}
}

// metrics scrapes the operator's /metrics.
func (op *operator) metrics() (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(op.metricsURL)
	if err != nil {
		return nil, fmt.Errorf("reading the operator's metrics: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return parseMetrics(string(data))
}

// gauge returns the value of an unlabelled gauge or counter of the operator.
func (op *operator) gauge(name string) (float64, error) {
	mfs, err := op.metrics()
	if err != nil {
		return 0, err
	}
	return sumMetric(mfs, name, nil), nil
}

// sumMetric adds the values of name's series whose labels include match.
func sumMetric(mfs map[string]*dto.MetricFamily, name string, match map[string]string) float64 {
	mf := mfs[name]
	if mf == nil {
		return 0
	}
	var sum float64
next:
	for _, m := range mf.GetMetric() {
		for k, v := range match {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// profile saves the operator's pprof profile kind (e.g. "profile?seconds=30",
// "heap") into path.
func (op *operator) profile(ctx context.Context, kind, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, op.pprofURL+"/"+kind, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reading the operator's %s profile: %w", kind, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reading the operator's %s profile: %s", kind, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// triggerCounters summarizes the operator's trigger metrics, for error
// messages.
func (op *operator) triggerCounters() string {
	mfs, err := op.metrics()
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, name := range []string{"kubeci_trigger_events_total", "kubeci_trigger_decisions_total", "kubeci_workplans_created_total"} {
		for _, m := range mfs[name].GetMetric() {
			label := ""
			for _, l := range m.GetLabel() {
				label += l.GetValue()
			}
			parts = append(parts, fmt.Sprintf("%s{%s}=%.0f", name, label, m.GetCounter().GetValue()))
		}
	}
	return strings.Join(parts, " ")
}
