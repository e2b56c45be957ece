// Package proctest helps tests prove that a run left no process behind: it
// makes step commands that are easy to find and looks for them in /proc.
package proctest

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// LongSleep returns a sleep command of about an hour whose command line is
// unique to the test (its fraction of a second is random), to find its
// process by.
func LongSleep(t testing.TB) string {
	t.Helper()
	n, err := rand.Int(rand.Reader, big.NewInt(1e12))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("sleep 3000.%012d", n)
}

// ProcessesWith lists the processes of this machine whose command line holds
// s, each as "PID: command line".
func ProcessesWith(t testing.TB, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, e := range entries {
		if e.Name() == "self" || e.Name() == "thread-self" {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if line := string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})); strings.Contains(line, s) {
			found = append(found, e.Name()+": "+line)
		}
	}
	return found
}
