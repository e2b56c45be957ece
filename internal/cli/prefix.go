package cli

import (
	"bufio"
	"errors"
	"io"
	"sync"

	"github.com/kubeci/kubeci/internal/steplog"
)

// linePrinter writes log lines, each prefixed with its step's name as kubeci
// run prints them ("step-1 | ...", package steplog), coloured when the output
// is a terminal. Lines of several steps streamed at once interleave whole:
// each line is written in one piece.
type linePrinter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix *steplog.Prefixer
}

// newLinePrinter prints the lines of steps (in plan order, which gives their
// colours and the width of the prefixes) to w.
func newLinePrinter(w io.Writer, color bool, steps []string) *linePrinter {
	return &linePrinter{w: w, prefix: steplog.NewPrefixer(steps, color)}
}

// isColorTerminal reports whether w is a terminal that colours suit.
func isColorTerminal(w io.Writer) bool { return steplog.IsColorTerminal(w) }

// copy writes every line r yields, prefixed with step, until r ends. A last
// line without a newline gets one. It returns r's error, if not EOF.
func (p *linePrinter) copy(step string, r io.Reader) error {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if line[len(line)-1] != '\n' {
				line = append(line, '\n')
			}
			if werr := p.line(step, line); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// line writes one line (ending in a newline) of step.
func (p *linePrinter) line(step string, line []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := io.WriteString(p.w, p.prefix.Line(step, string(line[:len(line)-1]))+"\n")
	return err
}
