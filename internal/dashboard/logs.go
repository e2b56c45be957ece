package dashboard

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"time"

	terminal "github.com/buildkite/terminal-to-html/v3"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/runlogs"
	"github.com/kubeci/kubeci/internal/steplog"
)

// logRetryDelay is how long to wait before opening again the log of a
// container the kubelet has not started yet.
const logRetryDelay = time.Second

// streamsFor opens container logs as viewer v.
func (s *Server) streamsFor(v *viewer, ns string) runlogs.Streamer {
	if s.opts.Logs != nil {
		return s.opts.Logs(v, ns)
	}
	return runlogs.PodLogs{Pods: v.Kube.CoreV1().Pods(ns)}
}

// stepNames lists wp's steps in plan order.
func stepNames(wp *kubeciv1.Workplan) []string {
	var out []string
	for _, ts := range plan.Steps(wp.Spec.Tasks) {
		out = append(out, ts.Step.Name)
	}
	return out
}

// notTerminalColour matches the escape sequences other than colours that a
// terminal understands (titles, links, inline images): dropped, so that a
// log line can only colour text.
var notTerminalColour = regexp.MustCompile("\x1b\\][^\x07\x1b]*(\x07|\x1b\\\\)?|\x1b[_P^X][^\x1b]*(\x1b\\\\)?")

// logLineHTML renders one log line of step, prefixed as kubeci logs prints
// it: the step's name padded to the longest, then the line with its ANSI
// colours as HTML (terminal-to-html escapes everything else).
func logLineHTML(p *steplog.Prefixer, index map[string]int, step, line string) string {
	text := terminal.Render([]byte(notTerminalColour.ReplaceAllString(line, "")))
	return fmt.Sprintf(`<div class="line"><span class="prefix c%d">%s</span> <span class="text">%s</span></div>`,
		index[step]%8, template.HTMLEscapeString(p.Prefix(step)), text)
}

// logSink sends a run's log lines to the page as they come.
type logSink struct {
	es     *eventStream
	prefix *steplog.Prefixer
	index  map[string]int
}

func newLogSink(es *eventStream, steps []string) *logSink {
	index := make(map[string]int, len(steps))
	for i, s := range steps {
		index[s] = i
	}
	return &logSink{es: es, prefix: steplog.NewPrefixer(steps, false), index: index}
}

func (l *logSink) Line(step, line string) error {
	return l.es.send("log", logLineHTML(l.prefix, l.index, step, line))
}

// noteWriter sends the follower's notes (a step that did not run, logs that
// are gone) to the page.
type noteWriter struct{ es *eventStream }

func (n noteWriter) Write(p []byte) (int, error) {
	msg := strings.TrimRight(string(p), "\n")
	if err := n.es.send("note", `<div class="note">`+template.HTMLEscapeString(msg)+`</div>`); err != nil {
		return 0, err
	}
	return len(p), nil
}

// liveRun streams a run's page: its state (graph, details, steps) after every
// change, and its steps' logs as kubeci logs -f follows them.
func (s *Server) liveRun(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	var wps *informer
	s.serveLive(w, r, func(ctx context.Context, v *viewer, changed func()) []*informer {
		wps = watchKind(ctx, v, &kubeciv1.WorkplanList{}, &kubeciv1.Workplan{}, oneObject(ns, name), changed)
		return []*informer{wps}
	}, func() ([]fragmentEvent, error) {
		list := workplansIn(wps)
		if len(list) == 0 {
			return []fragmentEvent{{ID: "state", HTML: `<p class="problem">This run was deleted.</p>`}}, nil
		}
		d := runDataOf(&list[0], s.now())
		var out []fragmentEvent
		for _, part := range []struct{ id, tmpl string }{{"state", "state"}, {"graph", "graph"}, {"actions", "actions"}} {
			html, err := s.fragment(r, "run.html", part.tmpl, d)
			if err != nil {
				return nil, err
			}
			out = append(out, fragmentEvent{ID: part.id, HTML: html})
		}
		return out, nil
	}, func(ctx context.Context, v *viewer, es *eventStream) {
		s.followLogs(ctx, v, es, ns, name)
	})
}

// followLogs streams the logs of run name, following it with its own watch,
// until the run and its logs end; then it says how the run ended.
func (s *Server) followLogs(ctx context.Context, v *viewer, es *eventStream, ns, name string) {
	updates := make(chan runlogs.Update)
	wake := make(chan struct{}, 1)
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	inf := watchKind(ctx, v, &kubeciv1.WorkplanList{}, &kubeciv1.Workplan{}, oneObject(ns, name), signal)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			if !inf.synced() {
				time.AfterFunc(50*time.Millisecond, signal)
				continue
			}
			var u runlogs.Update
			if list := workplansIn(inf); len(list) > 0 {
				u.Workplan = &list[0]
			}
			select {
			case updates <- u:
			case <-ctx.Done():
				return
			}
		}
	}()
	// The steps come from the first state: wait for it.
	var first runlogs.Update
	select {
	case first = <-updates:
	case <-ctx.Done():
		return
	}
	if first.Workplan == nil {
		_ = es.send("end", "This run does not exist (any more).")
		return
	}
	steps := plan.Steps(first.Workplan.Spec.Tasks)
	f := &runlogs.Follower{Streams: s.streamsFor(v, ns), Out: newLogSink(es, stepNames(first.Workplan)),
		Notes: noteWriter{es}, RetryDelay: logRetryDelay}
	replay := make(chan runlogs.Update, 1)
	replay <- first
	merged := make(chan runlogs.Update)
	go func() {
		defer close(merged)
		for _, ch := range []chan runlogs.Update{replay, updates} {
			for {
				var u runlogs.Update
				select {
				case u = <-ch:
				case <-ctx.Done():
					return
				}
				select {
				case merged <- u:
				case <-ctx.Done():
					return
				}
				if ch == replay {
					break
				}
			}
		}
	}()
	end, err := f.Follow(ctx, name, merged, steps)
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		_ = es.send("end", "The logs stopped: "+err.Error())
	default:
		_ = es.send("end", endMessage(end))
	}
}

// downloadLog serves a run's logs (or one step's, with ?step=) as a text
// file, as kubeci logs prints them.
func (s *Server) downloadLog(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	v, wp := s.readWorkplan(w, r, ns, name, s.apiFail)
	if wp == nil {
		return
	}
	steps, err := runlogs.SelectSteps(wp, r.URL.Query().Get("step"))
	if err != nil {
		s.fail(w, r, http.StatusNotFound, err)
		return
	}
	file := name
	if st := r.URL.Query().Get("step"); st != "" {
		file += "-" + st
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.log"`, file))
	f := &runlogs.Follower{Streams: s.streamsFor(v, ns), Out: runlogs.NewLinePrinter(w, false, stepNames(wp)),
		Notes: commentWriter{w}, RetryDelay: logRetryDelay}
	if err := f.Print(r.Context(), wp, steps); err != nil {
		fmt.Fprintf(w, "# %v\n", err)
	}
}

// commentWriter writes the follower's notes into a downloaded log as "#" lines.
type commentWriter struct{ w http.ResponseWriter }

func (c commentWriter) Write(p []byte) (int, error) {
	_, err := fmt.Fprintf(c.w, "# %s", p)
	return len(p), err
}

// endMessage says how a run ended, once its logs have.
func endMessage(wp *kubeciv1.Workplan) string {
	msg := "All logs shown. The run ended " + runlogs.Phase(wp)
	if wp.Status.Reason != "" {
		msg += ": " + wp.Status.Reason
	}
	return msg + "."
}
