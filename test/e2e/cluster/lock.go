package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// machineLock is the lock that lets one process at a time bring up, use or
// tear down the machine's cluster.
type machineLock struct{ f *os.File }

// acquireLock takes the machine's lock, waiting (and saying so) while another
// process holds it.
func acquireLock(ctx context.Context, logf func(string, ...any)) (*machineLock, error) {
	if err := os.MkdirAll(filepath.Dir(lockFile), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	waiting := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", lockFile, err)
		}
		if !waiting {
			holder, _ := os.ReadFile(lockFile)
			logf("waiting for %s, held by process %s (another end-to-end run on this machine)", lockFile, strings.TrimSpace(string(holder)))
			waiting = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for %s: %w", lockFile, ctx.Err())
		case <-time.After(time.Second):
		}
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt(fmt.Appendf(nil, "%d\n", os.Getpid()), 0)
	return &machineLock{f: f}, nil
}

func (l *machineLock) release() {
	if l == nil || l.f == nil {
		return
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	_ = l.f.Close()
	l.f = nil
}
