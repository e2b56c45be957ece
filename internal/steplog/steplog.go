// Package steplog is how kubeci prints the lines steps write, locally (kubeci
// run) and from a cluster (kubeci logs): each line prefixed with its step's
// name, padded so the lines of a run align, in a colour of its own on a
// terminal.
package steplog

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// ColorReset ends a coloured span.
const ColorReset = "\x1b[0m"

// palette holds the ANSI colours of step names, in plan order (no red: it
// reads as an error).
var palette = []string{"\x1b[36m", "\x1b[35m", "\x1b[34m", "\x1b[33m", "\x1b[96m", "\x1b[95m", "\x1b[94m", "\x1b[93m"}

// Prefixer knows a run's steps: how wide their names are and which colour
// each has.
type Prefixer struct {
	color  bool
	width  int
	colors map[string]string
}

// NewPrefixer prefixes the lines of steps (in plan order, which gives their
// colours), in colour when color is true.
func NewPrefixer(steps []string, color bool) *Prefixer {
	p := &Prefixer{color: color, colors: make(map[string]string, len(steps))}
	for i, s := range steps {
		p.width = max(p.width, len(s))
		p.colors[s] = palette[i%len(palette)]
	}
	return p
}

// Prefix is what each line of step starts with: "step-1 |", its name padded to
// the longest step name.
func (p *Prefixer) Prefix(step string) string {
	return p.Paint(step, fmt.Sprintf("%-*s |", p.width, step))
}

// Line is one line of step, prefixed; an empty line gets no trailing space.
func (p *Prefixer) Line(step, line string) string {
	if line == "" {
		return p.Prefix(step)
	}
	return p.Prefix(step) + " " + line
}

// Paint writes s in step's colour (when colours are on).
func (p *Prefixer) Paint(step, s string) string {
	c := p.colors[step]
	if !p.color || c == "" {
		return s
	}
	return c + s + ColorReset
}

// IsColorTerminal reports whether w is a terminal that colours suit: not when
// NO_COLOR is set (https://no-color.org) or TERM is dumb.
func IsColorTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}
