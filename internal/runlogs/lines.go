package runlogs

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/kubeci/kubeci/internal/steplog"
)

// LinePrinter is the Sink of a terminal: it writes log lines, each prefixed with its step's name as kubeci
// run prints them ("step-1 | ...", package steplog), coloured when the output
// is a terminal. Lines of several steps streamed at once interleave whole:
// each line is written in one piece.
type LinePrinter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix *steplog.Prefixer
}

// NewLinePrinter prints the lines of steps (in plan order, which gives their
// colours and the width of the prefixes) to w.
func NewLinePrinter(w io.Writer, color bool, steps []string) *LinePrinter {
	return &LinePrinter{w: w, prefix: steplog.NewPrefixer(steps, color)}
}

// copyLines hands out every line r yields, as step's, until r ends. It
// returns r's error, if not EOF.
func copyLines(out Sink, step string, r io.Reader) error {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if werr := out.Line(step, strings.TrimSuffix(string(line), "\n")); werr != nil {
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

// Line writes one line of step, with its prefix and a newline.
func (p *LinePrinter) Line(step, line string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := io.WriteString(p.w, p.prefix.Line(step, line)+"\n")
	return err
}
