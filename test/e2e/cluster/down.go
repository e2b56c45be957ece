package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Down tears down the cluster whose state is in dir, kept up or left by a
// crashed run: it takes the machine's lock first. It is safe to run when
// nothing is there.
func Down(ctx context.Context, dir string, logf func(string, ...any)) error {
	if reason := Unsupported(); reason != "" {
		return errors.New(reason)
	}
	if logf == nil {
		logf = stderrLogf
	}
	lock, err := acquireLock(ctx, logf)
	if err != nil {
		return err
	}
	defer lock.release()
	c, err := LoadConfig(dir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			logf("%v; tearing down what it can", err)
		}
		c = &Config{Dir: dir}
	}
	return down(c, logf)
}

// LeftoversDown is Down for what a crashed test run left: it leaves alone a
// cluster kept up on purpose (`make e2e-up`, KUBECI_E2E_KEEP).
func LeftoversDown(ctx context.Context, dir string, logf func(string, ...any)) error {
	if Unsupported() != "" {
		return nil
	}
	if c, err := LoadConfig(dir); err == nil && c.Keep {
		return nil
	}
	return Down(ctx, dir, logf)
}

// down stops the components (pods' processes and containerd's shims
// included), unmounts what they mounted, removes the cgroups, the network
// setup and the state folder, and puts back the kernel settings. It goes on
// after a failed step and reports every failure. The component logs are
// kept in <dir>-logs.
func down(c *Config, logf func(string, ...any)) error {
	start := time.Now()
	var errs []error
	step := func(what string, fn func() error) {
		t := time.Now()
		if err := fn(); err != nil {
			errs = append(errs, err)
		}
		if d := time.Since(t); d > 2*time.Second {
			logf("teardown: %s took %s", what, d.Round(100*time.Millisecond))
		}
	}
	_, statErr := os.Stat(c.Dir)
	existed := statErr == nil
	for _, name := range stopOrder {
		if name == "containerd" {
			// The containers run on without containerd; kill them, then the shims.
			step("killing the pods' processes", killCgroupProcesses)
			step("killing containerd's shims", func() error { return killShims(c) })
		}
		grace := stopGrace
		if name == "kube-apiserver" {
			grace = time.Second // drains its watches for seconds; nothing is kept
		}
		step("stopping "+name, func() error { return stopByPIDFile(c, name, grace) })
	}
	step("killing the pods' processes", killCgroupProcesses)
	step("killing containerd's shims", func() error { return killShims(c) })
	unmountErr := unmountAll(c.Dir)
	if unmountErr != nil {
		errs = append(errs, unmountErr)
	}
	step("removing cgroups", removeCgroups)
	step("removing the network setup", func() error { return tearDownNetwork(c) })
	step("restoring sysctls", func() error { return restoreSysctls(c) })
	step("removing log links", func() error { return removeContainerLogLinks(c) })
	step("removing shim sockets", func() error { return removeShimSockets(c) })
	if existed && unmountErr == nil {
		step("keeping the logs", func() error { return keepLogs(c) })
		step("removing "+c.Dir, func() error { return os.RemoveAll(c.Dir) })
	}
	if existed {
		logf("tore down %s in %s", c.Dir, time.Since(start).Round(10*time.Millisecond))
	}
	if len(errs) > 0 {
		return fmt.Errorf("tearing down the cluster in %s: %w", c.Dir, errors.Join(errs...))
	}
	return nil
}

// stopGrace is how long a component has to exit after SIGTERM. Everything is
// thrown away afterwards, so there is nothing to wait for.
const stopGrace = 3 * time.Second

// removeContainerLogLinks removes the links the kubelet made in
// /var/log/containers to the pods' logs in the state folder.
func removeContainerLogLinks(c *Config) error {
	links, _ := filepath.Glob("/var/log/containers/*.log")
	var errs []error
	for _, l := range links {
		target, err := os.Readlink(l)
		if err == nil && strings.HasPrefix(target, c.Path("pod-logs")+"/") {
			if err := os.Remove(l); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// LogsDir is where the component logs of the last torn-down cluster stay.
func LogsDir(dir string) string { return strings.TrimRight(dir, "/") + "-logs" }

// keepLogs moves the component logs and the pods' logs out of the state folder,
// replacing those of the previous cluster.
func keepLogs(c *Config) error {
	dst := LogsDir(c.Dir)
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, d := range []string{"logs", "pod-logs"} {
		if err := os.Rename(c.Path(d), filepath.Join(dst, d)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
