package cli

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/golden"
)

// TestWait runs kubeci wait on runs in each state and compares the
// transcript (command, exit code, outputs) with testdata/wait.golden.
func TestWait(t *testing.T) {
	k := newKube(t)
	runsFixture(k) // build-run-1 Completed, -2 Failed, -3 Running (cancelled), -4 Pending
	var transcript strings.Builder
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"wait", "build-run-1"}, exitCompleted},
		{[]string{"wait", "build-run-2"}, exitFailed},
		{[]string{"wait", "build-run-3", "--timeout", "500ms"}, exitTimeout},
		{[]string{"wait", "nope"}, 1},
	} {
		out, errOut, code := k.run(c.args...)
		if code != c.code {
			t.Errorf("kubeci %s: exit code %d, want %d", strings.Join(c.args, " "), code, c.code)
		}
		fmt.Fprintf(&transcript, "$ kubeci %s\n%s%s[exit %d]\n\n", strings.Join(c.args, " "), out, errOut, code)
	}
	golden.Check(t, "wait.golden", []byte(k.mask(transcript.String())))
}

// wait watches: it returns when the run ends, not before.
func TestWaitFollowsTheRun(t *testing.T) {
	k := newKube(t)
	_, wps, now := runsFixture(k)
	r := k.start("wait", "build-run-4")
	start := now.Add(-time.Minute)
	k.setStatus(wps[3], func(wp *kubeciv1.Workplan) { runningSince(wp, start) })
	r.waitsAfter("the run Running", func(o client.Object) bool {
		wp, ok := o.(*kubeciv1.Workplan)
		return ok && wp.Status.Phase == kubeciv1.WorkplanRunning
	})
	k.setStatus(wps[3], func(wp *kubeciv1.Workplan) { completed(wp, start, 30*time.Second) })
	if code := r.wait(); code != 0 || r.out.String() != "workplan build-run-4 Completed in 30s\n" {
		t.Errorf("got code %d, %q %q", code, r.out, r.errOut)
	}

	// A run deleted while waited for.
	r = k.start("wait", "build-run-3")
	r.waitsAfter("build-run-3", func(o client.Object) bool { return o.GetName() == "build-run-3" })
	if err := k.env.Client.Delete(context.Background(), wps[2]); err != nil {
		t.Fatal(err)
	}
	if code := r.wait(); code != 1 || r.errOut.String() != "Error: workplan build-run-3 was deleted before it ended\n" {
		t.Errorf("got code %d, %q", code, r.errOut)
	}
}
