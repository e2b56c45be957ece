package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubeci/kubeci/internal/golden"
)

// TestLogsWithoutPods runs kubeci logs through the real API server. There is
// no kubelet under envtest and so no container log: this covers what the
// API server alone answers (runs and steps that do not exist or have not
// started, pods already deleted); the log follower's own logic has unit
// tests, the real log path the end-to-end suite.
func TestLogsWithoutPods(t *testing.T) {
	k := newKube(t)
	runsFixture(k) // build-run-2 Failed in task 0; build-run-4 Pending
	var transcript strings.Builder
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"logs", "build-run-2"}, 0},
		{[]string{"logs", "-f", "build-run-2"}, 0},
		{[]string{"logs", "build-run-2", "--step", "step-2"}, 1},
		{[]string{"logs", "build-run-2", "--step", "step-9"}, 1},
		{[]string{"logs", "build-run-4", "--step", "step-1"}, 1},
		{[]string{"logs", "nope"}, 1},
	} {
		out, errOut, code := k.run(c.args...)
		if code != c.code {
			t.Errorf("kubeci %s: exit code %d, want %d", strings.Join(c.args, " "), code, c.code)
		}
		fmt.Fprintf(&transcript, "$ kubeci %s\n%s%s[exit %d]\n\n", strings.Join(c.args, " "), out, errOut, code)
	}
	golden.Check(t, "logs-without-pods.golden", []byte(k.mask(transcript.String())))
}
