package cluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const cgroupFS = "/sys/fs/cgroup"

// cgroupRoots are CgroupRoot's folders: one per cgroup v1 hierarchy
// (/sys/fs/cgroup/<controller>/kubeci-e2e), or the one of cgroup v2.
func cgroupRoots() []string {
	roots, _ := filepath.Glob(filepath.Join(cgroupFS, "*", CgroupRoot))
	if _, err := os.Stat(filepath.Join(cgroupFS, CgroupRoot)); err == nil {
		roots = append(roots, filepath.Join(cgroupFS, CgroupRoot))
	}
	return roots
}

// createCgroupRoot creates CgroupRoot in every cgroup v1 hierarchy the kubelet
// needs it in (it checks that its cgroup root exists), giving the cpuset one
// its parent's CPUs and memory nodes. On cgroup v2 it creates the one folder.
func createCgroupRoot() error {
	if _, err := os.Stat(filepath.Join(cgroupFS, "cgroup.controllers")); err == nil {
		return os.MkdirAll(filepath.Join(cgroupFS, CgroupRoot), 0o755)
	}
	hierarchies, err := os.ReadDir(cgroupFS)
	if err != nil {
		return err
	}
	for _, h := range hierarchies {
		parent := filepath.Join(cgroupFS, h.Name())
		if !h.IsDir() || h.Name() == "unified" {
			continue
		}
		if _, err := os.Stat(filepath.Join(parent, "cgroup.procs")); err != nil {
			continue // a link such as cpu,cpuacct, or not a hierarchy
		}
		dir := filepath.Join(parent, CgroupRoot)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("creating cgroup %s: %w", dir, err)
		}
		if h.Name() == "cpuset" {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				v, err := os.ReadFile(filepath.Join(parent, f))
				if err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, f), v, 0o644); err != nil {
					return fmt.Errorf("setting %s of cgroup %s: %w", f, dir, err)
				}
			}
		}
	}
	return nil
}

// killCgroupProcesses kills every process in CgroupRoot's cgroups (the
// containers of all pods) and waits until they are gone.
func killCgroupProcesses() error {
	var left []int
	for range 50 {
		left = cgroupPIDs()
		if len(left) == 0 {
			return nil
		}
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("processes %v remain in cgroup %s after SIGKILL", left, CgroupRoot)
}

// cgroupPIDs lists the live processes in CgroupRoot's cgroups.
func cgroupPIDs() []int {
	seen := map[int]bool{}
	var pids []int
	for _, root := range cgroupRoots() {
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			for _, f := range strings.Fields(string(data)) {
				pid, err := strconv.Atoi(f)
				if err != nil || seen[pid] {
					continue
				}
				seen[pid] = true
				if st, err := procStat(pid); err == nil && st[0] != "Z" {
					pids = append(pids, pid)
				}
			}
			return nil
		})
	}
	return pids
}

// removeCgroups removes CgroupRoot's cgroup folders, deepest first.
func removeCgroups() error {
	var errs []error
	for _, root := range cgroupRoots() {
		var dirs []string
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, path)
			}
			return nil
		})
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		for _, d := range dirs {
			if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("removing cgroup %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}
