package workplan

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

func TestExpiredRuns(t *testing.T) {
	run := func(name string, phase kubeciv1.WorkplanPhase, ended int, mods ...func(*kubeciv1.Workplan)) kubeciv1.Workplan {
		wp := kubeciv1.Workplan{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.Time{Time: t0}}}
		wp.Status.Phase = phase
		if ended > 0 {
			wp.Status.CompletionTime = &metav1.Time{Time: t0.Add(time.Duration(ended) * time.Minute)}
		}
		for _, m := range mods {
			m(&wp)
		}
		return wp
	}
	beingDeleted := func(wp *kubeciv1.Workplan) { wp.DeletionTimestamp = &metav1.Time{Time: t0} }
	runs := []kubeciv1.Workplan{
		run("c1", kubeciv1.WorkplanCompleted, 1),
		run("c3", kubeciv1.WorkplanCompleted, 3),
		run("c2", kubeciv1.WorkplanCompleted, 2),
		run("f1", kubeciv1.WorkplanFailed, 1),
		run("f2", kubeciv1.WorkplanFailed, 2),
		run("f0", kubeciv1.WorkplanFailed, 0), // ended without a completion time: oldest
		run("gone", kubeciv1.WorkplanFailed, 1, beingDeleted),
		run("live", kubeciv1.WorkplanRunning, 0),
		run("new", "", 0),
	}
	names := func(wps []*kubeciv1.Workplan) []string {
		var out []string
		for _, wp := range wps {
			out = append(out, wp.Name)
		}
		return out
	}
	for _, tc := range []struct {
		name                string
		completed, failedOK int
		want                []string
	}{
		{"within the limits", 10, 10, nil},
		{"keep the newest", 1, 1, []string{"c2", "c1", "f1", "f0"}},
		{"keep none", 0, 0, []string{"c3", "c2", "c1", "f2", "f1", "f0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, names(expiredRuns(runs, tc.completed, tc.failedOK))); diff != "" {
				t.Errorf("expired runs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestObserveNode(t *testing.T) {
	since := t0.Add(-time.Minute)
	for _, tc := range []struct {
		name string
		node nodeState
		lost bool
		why  string
		wait time.Duration
	}{
		{"no node yet", observeNode("", nil), false, "", 0},
		{"ready", observeNode("n", readyNode("n")), false, "", 0},
		{"deleted", observeNode("n", nil), true, "node n was deleted", 0},
		{"NotReady for a minute", observeNode("n", notReadyNode("n", since)), false, "", 4 * time.Minute},
		{"NotReady too long", observeNode("n", notReadyNode("n", t0.Add(-5*time.Minute))), true,
			"node n has been NotReady since 2026-03-01T11:55:00Z (more than 5m0s)", 0},
	} {
		lost, why, wait := tc.node.lost(t0, 5*time.Minute)
		if lost != tc.lost || why != tc.why || wait != tc.wait {
			t.Errorf("%s: lost() = %v, %q, %s; want %v, %q, %s", tc.name, lost, why, wait, tc.lost, tc.why, tc.wait)
		}
	}
}
