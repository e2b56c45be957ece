package cli

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/utils/clock"
)

// none is what tables and descriptions show for a missing value, as kubectl
// does.
const none = "<none>"

// age is how long before clk's now t was, kubectl-style ("5m", "3h"); <none>
// for no time. Ages and durations are measured against the command's clock
// (Options.Clock), which tests fix so that their golden output does not
// change with the moment they run.
func age(clk clock.PassiveClock, t metav1.Time) string {
	if t.IsZero() {
		return none
	}
	return duration.HumanDuration(clk.Since(t.Time))
}

// runDuration is how long something that started at start took: until end,
// or until now while it goes on. <none> when it has not started.
func runDuration(clk clock.PassiveClock, start, end *metav1.Time) string {
	if start == nil || start.IsZero() {
		return none
	}
	stop := clk.Now()
	if end != nil && !end.IsZero() {
		stop = end.Time
	}
	return duration.HumanDuration(stop.Sub(start.Time))
}

// timestamp writes t as kubectl describe does, with its age: "Mon, 02 Jan
// 2006 15:04:05 -0700 (5m ago)".
func timestamp(clk clock.PassiveClock, t *metav1.Time) string {
	if t == nil || t.IsZero() {
		return none
	}
	return t.Time.Format(time.RFC1123Z) + " (" + age(clk, *t) + " ago)"
}
