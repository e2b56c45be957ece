package cli

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// maxEvents is how many of the most recent events a description shows.
const maxEvents = 25

// objectRef names an object events are about.
type objectRef struct {
	Kind, Name string
}

// event is one event as a description shows it.
type event struct {
	Type, Reason, From string
	Message            string
	First, Last        time.Time
	Count              int32
}

// eventsAbout returns the events about the objects in the namespace, oldest
// first, at most maxEvents of the newest. Events reach the API server through
// two APIs (events.k8s.io/v1, which Kube CI's operator uses, and the older
// core v1 one, which kubelets and schedulers may use) but are stored once:
// reading through events.k8s.io/v1 finds both kinds. Clusters that do not
// serve it are read through core v1. Errors are returned as the API server
// gave them.
func (c *cluster) eventsAbout(ctx context.Context, refs []objectRef) ([]event, error) {
	var out []event
	for _, ref := range refs {
		evs, err := c.eventsV1(ctx, ref)
		if meta.IsNoMatchError(err) {
			evs, err = c.eventsCore(ctx, ref)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].Last.Equal(out[j].Last) {
			return out[i].Last.Before(out[j].Last)
		}
		return out[i].Reason < out[j].Reason
	})
	if len(out) > maxEvents {
		out = out[len(out)-maxEvents:]
	}
	return out, nil
}

func (c *cluster) eventsV1(ctx context.Context, ref objectRef) ([]event, error) {
	var list eventsv1.EventList
	sel := fields.SelectorFromSet(fields.Set{"regarding.kind": ref.Kind, "regarding.name": ref.Name})
	if err := c.Client.List(ctx, &list, client.InNamespace(c.Namespace), client.MatchingFieldsSelector{Selector: sel}); err != nil {
		return nil, err
	}
	out := make([]event, 0, len(list.Items))
	for _, e := range list.Items {
		ev := event{Type: e.Type, Reason: e.Reason, Message: e.Note, Count: 1,
			From: e.ReportingController}
		if ev.From == "" {
			ev.From = e.DeprecatedSource.Component
		}
		ev.First = firstTime(e.EventTime.Time, e.DeprecatedFirstTimestamp.Time, e.CreationTimestamp.Time)
		ev.Last = firstTime(e.DeprecatedLastTimestamp.Time, ev.First)
		if e.Series != nil {
			ev.Count, ev.Last = e.Series.Count, e.Series.LastObservedTime.Time
		} else if e.DeprecatedCount > 1 {
			ev.Count = e.DeprecatedCount
		}
		out = append(out, ev)
	}
	return out, nil
}

func (c *cluster) eventsCore(ctx context.Context, ref objectRef) ([]event, error) {
	var list corev1.EventList
	sel := fields.SelectorFromSet(fields.Set{"involvedObject.kind": ref.Kind, "involvedObject.name": ref.Name})
	if err := c.Client.List(ctx, &list, client.InNamespace(c.Namespace), client.MatchingFieldsSelector{Selector: sel}); err != nil {
		return nil, err
	}
	out := make([]event, 0, len(list.Items))
	for _, e := range list.Items {
		ev := event{Type: e.Type, Reason: e.Reason, Message: e.Message, Count: max(1, e.Count),
			From: e.ReportingController}
		if ev.From == "" {
			ev.From = e.Source.Component
		}
		ev.First = firstTime(e.FirstTimestamp.Time, e.EventTime.Time, e.CreationTimestamp.Time)
		ev.Last = firstTime(e.LastTimestamp.Time, ev.First)
		if e.Series != nil {
			ev.Count, ev.Last = e.Series.Count, e.Series.LastObservedTime.Time
		}
		out = append(out, ev)
	}
	return out, nil
}

// firstTime is the first of times that is set.
func firstTime(times ...time.Time) time.Time {
	for _, t := range times {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// eventsMissing is what the Events section says when it has no rows: <none>,
// or why the events could not be read (a description is still worth showing
// to someone not allowed to list events).
func eventsMissing(err error) string {
	if err == nil {
		return none
	}
	return "<unavailable: " + err.Error() + ">"
}

// eventLines are the rows of an Events section, as kubectl describe shows
// them: "5m (x3 over 20m)" for repeated events.
func eventLines(clk clock.PassiveClock, evs []event) []string {
	if len(evs) == 0 {
		return nil
	}
	rows := [][]string{{"TYPE", "REASON", "AGE", "FROM", "MESSAGE"}}
	for _, e := range evs {
		when := duration.HumanDuration(clk.Since(e.Last))
		if e.Count > 1 {
			when = fmt.Sprintf("%s (x%d over %s)", when, e.Count, duration.HumanDuration(clk.Since(e.First)))
		}
		from := e.From
		if from == "" {
			from = none
		}
		rows = append(rows, []string{e.Type, e.Reason, when, from, firstLine(e.Message, 200)})
	}
	return align(rows)
}
