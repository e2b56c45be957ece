package workplan

import (
	"testing"
	"time"
)

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
