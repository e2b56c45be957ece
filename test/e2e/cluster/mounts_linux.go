package cluster

import "syscall"

// unmount unmounts one mount point; lazy detaches it even while busy.
func unmount(path string, lazy bool) error {
	flags := 0
	if lazy {
		flags = syscall.MNT_DETACH
	}
	return syscall.Unmount(path, flags)
}
