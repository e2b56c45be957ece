package cluster

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// mountsUnder lists the mount points at or below dir in a mountinfo table
// (the format of /proc/self/mountinfo), deepest first, so that unmounting them
// in order never meets a busy parent. A path mounted several times appears as
// many times.
func mountsUnder(mountinfo, dir string) []string {
	dir = strings.TrimRight(dir, "/")
	var points []string
	for _, line := range strings.Split(mountinfo, "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		p := unescapeMountPath(fields[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	sort.SliceStable(points, func(i, j int) bool {
		return strings.Count(points[i], "/") > strings.Count(points[j], "/")
	})
	return points
}

// unescapeMountPath decodes the octal escapes (\040 for a space) mountinfo
// uses in paths.
func unescapeMountPath(p string) string {
	if !strings.Contains(p, `\`) {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+4 <= len(p) {
			if v, err := strconv.ParseUint(p[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

// unmountAll unmounts everything mounted at or below dir: pod volumes the
// kubelet mounted, the rootfs and shm mounts and network namespaces containerd
// left. A mount that stays busy is detached (lazy unmount). It fails when a
// mount remains: removing the folder could then delete through it.
func unmountAll(dir string) error {
	for range 5 {
		data, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			return err
		}
		points := mountsUnder(string(data), dir)
		if len(points) == 0 {
			return nil
		}
		for _, p := range points {
			if err := unmount(p, false); err != nil {
				_ = unmount(p, true)
			}
		}
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	if points := mountsUnder(string(data), dir); len(points) > 0 {
		return fmt.Errorf("%d mounts remain under %s (%s): unmount them by hand before removing it", len(points), dir, strings.Join(points, ", "))
	}
	return nil
}

var errUnsupported = errors.New("not supported on this system")
