package testenv

import (
	"testing"
	"time"
)

// WaitTimeout is how long Eventually waits: long enough for a busy two-core
// machine running several test binaries at once.
const WaitTimeout = 60 * time.Second

// Eventually polls cond until it returns nil, and fails the test with cond's
// last error when WaitTimeout passes first.
func Eventually(t testing.TB, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %v", what, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
