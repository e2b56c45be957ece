package local

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
	"github.com/kubeci/kubeci/internal/steplog"
)

// maxLine is how much of a line without a newline is held before it is
// printed anyway.
const maxLine = 64 << 10

// ANSI colours: step names cycle through the palette; results use the rest.
const (
	colorReset  = steplog.ColorReset
	colorBold   = "\x1b[1m"
	colorRed    = "\x1b[31m"
	colorGreen  = "\x1b[32m"
	colorYellow = "\x1b[33m"
)

// Printer prints a run as it happens: the run's header, a start and a finish
// line per step, and every line a step prints, prefixed with the step's name.
// Step lines from standard error go to ErrOut, all else to Out. Lines are
// printed whole, so the output of parallel steps interleaves by lines.
type Printer struct {
	out, errOut           io.Writer
	colorOut, colorErrOut bool

	mu                   sync.Mutex
	prefix, prefixErrOut *steplog.Prefixer
}

// NewPrinter prints to out and errOut, each in colour when its flag is true
// (when it is a terminal).
func NewPrinter(out, errOut io.Writer, colorOut, colorErrOut bool) *Printer {
	return &Printer{out: out, errOut: errOut, colorOut: colorOut, colorErrOut: colorErrOut,
		prefix: steplog.NewPrefixer(nil, colorOut), prefixErrOut: steplog.NewPrefixer(nil, colorErrOut)}
}

// steps sets the names the printer will see, to align prefixes and pick
// colours.
func (p *Printer) steps(names []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.prefix = steplog.NewPrefixer(names, p.colorOut)
	p.prefixErrOut = steplog.NewPrefixer(names, p.colorErrOut)
}

// header introduces a run: what runs, where, and where its workspace is. It
// also learns the step names, to align prefixes and pick colours.
func (p *Printer) header(wp *kubeciv1.Workplan, steps []Step, runtime, note string, ws *Workspace) {
	var names []string
	for _, s := range steps {
		names = append(names, s.Name)
	}
	p.steps(names)
	how := "a manual run"
	if t := wp.Spec.Trigger; t.Event != kubeciv1.EventManual {
		obj := t.Name
		if t.Namespace != "" {
			obj = t.Namespace + "/" + t.Name
		}
		how = fmt.Sprintf("as if triggered by %s %s (%s)", t.Kind, obj, t.Event)
	}
	p.Infof("Running workflow %s (%s in %s) as %s, %s: triggers are not watched locally",
		wp.Spec.Workflow, plan.Count(len(steps), "step"), plan.Count(len(wp.Spec.Tasks), "task"), wp.Name, how)
	if note != "" {
		runtime += " (" + note + ")"
	}
	p.Infof("Runtime: %s", runtime)
	if ws.Kept() {
		p.Infof("Workspace: %s (kept)", ws.Dir)
	} else {
		p.Infof("Workspace: %s (removed at the end)", ws.Dir)
	}
}

// Infof prints a line about the run to Out.
func (p *Printer) Infof(format string, args ...any) {
	p.println(p.out, fmt.Sprintf(format, args...))
}

// Warnf prints a warning line to ErrOut.
func (p *Printer) Warnf(format string, args ...any) {
	warning := "warning: "
	if p.colorErrOut {
		warning = colorYellow + warning + colorReset
	}
	p.println(p.errOut, warning+fmt.Sprintf(format, args...))
}

func (p *Printer) println(w io.Writer, line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintln(w, line)
}

// task announces a task: its serial, then its parallel steps.
func (p *Printer) task(index int, serial, parallel []string) {
	var parts []string
	if len(serial) > 0 {
		parts = append(parts, "serial "+strings.Join(serial, ", "))
	}
	if len(parallel) > 0 {
		parts = append(parts, "parallel "+strings.Join(parallel, ", "))
	}
	p.Infof("%s", p.paint(colorBold, fmt.Sprintf("--- task %d: %s", index, strings.Join(parts, "; then "))))
}

// started prints a step's start line.
func (p *Printer) started(s plan.TaskStep) {
	kind := "serial"
	if s.Parallel {
		kind = "parallel"
	}
	p.Infof("==> %s started (task %d, %s)", p.name(s.Step.Name), s.Task, kind)
}

// finished prints a step's finish line.
func (p *Printer) finished(r StepResult) {
	var line string
	switch r.Outcome {
	case Succeeded:
		line = p.paint(colorGreen, "succeeded")
	case Failed:
		line = p.paint(colorRed, "failed")
	case TimedOut:
		line = p.paint(colorRed, r.Outcome.words())
	default:
		line = p.paint(colorYellow, r.Outcome.words())
	}
	line += " after " + FormatDuration(r.Duration())
	if r.ExitCode != nil {
		line += fmt.Sprintf(" (exit code %d)", *r.ExitCode)
	}
	if r.Message != "" {
		line += ": " + r.Message
	}
	p.Infof("==> %s %s", p.name(r.Name), line)
}

// name is a step's name in its colour.
func (p *Printer) name(step string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.prefix.Paint(step, step)
}

func (p *Printer) paint(color, s string) string {
	if !p.colorOut || color == "" {
		return s
	}
	return color + s + colorReset
}

// lines returns a writer for one output stream of a step: it prints each line
// written to it as "STEP | line" (package steplog). Close prints a last line without a newline.
func (p *Printer) lines(step string, stderr bool) *lineWriter {
	p.mu.Lock()
	w, prefix := p.out, p.prefix
	if stderr {
		w, prefix = p.errOut, p.prefixErrOut
	}
	p.mu.Unlock()
	return &lineWriter{p: p, w: w, step: step, prefix: prefix}
}

// lineWriter prints whole lines with a prefix.
type lineWriter struct {
	p      *Printer
	w      io.Writer
	step   string
	prefix *steplog.Prefixer

	mu  sync.Mutex
	buf []byte
	// cut is true after a line too long was printed in part: a newline right
	// after it ends that line, not an empty one.
	cut bool
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			if len(l.buf) >= maxLine {
				l.emit(l.buf)
				l.buf, l.cut = l.buf[:0], true
			}
			return len(b), nil
		}
		if i > 0 || !l.cut {
			l.emit(l.buf[:i])
		}
		l.buf, l.cut = l.buf[i+1:], false
	}
}

// Close prints what is left of a last line without a newline.
func (l *lineWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(l.buf)
		l.buf = nil
	}
	return nil
}

func (l *lineWriter) emit(line []byte) {
	l.p.println(l.w, l.prefix.Line(l.step, string(bytes.TrimSuffix(line, []byte("\r")))))
}

// FormatDuration rounds a duration for people: to the millisecond below a
// minute, to the second above.
func FormatDuration(d time.Duration) string {
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}
