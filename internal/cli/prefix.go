package cli

import (
	"bufio"
	"errors"
	"io"
	"os"
	"sync"

	"golang.org/x/term"
)

// linePrinter writes log lines, each prefixed with its step's name ("[step-1]
// ..."), coloured when the output is a terminal. Lines of several steps
// streamed at once interleave whole: each line is written in one piece.
type linePrinter struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
	// palette gives each step a colour, by its place in the plan.
	palette map[string]string
}

// stepColors are the ANSI colours of step prefixes (no red: it reads as an
// error).
var stepColors = []string{"\x1b[36m", "\x1b[33m", "\x1b[32m", "\x1b[35m", "\x1b[34m", "\x1b[96m", "\x1b[93m", "\x1b[92m"}

const colorReset = "\x1b[0m"

// newLinePrinter prints the lines of steps (in plan order, which gives their
// colours) to w.
func newLinePrinter(w io.Writer, color bool, steps []string) *linePrinter {
	p := &linePrinter{w: w, color: color, palette: map[string]string{}}
	for i, s := range steps {
		p.palette[s] = stepColors[i%len(stepColors)]
	}
	return p
}

// isColorTerminal reports whether w is a terminal that colours suit: not when
// NO_COLOR is set (https://no-color.org) or TERM is dumb.
func isColorTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// prefix is the start of each of step's lines.
func (p *linePrinter) prefix(step string) string {
	if !p.color {
		return "[" + step + "] "
	}
	return p.palette[step] + "[" + step + "]" + colorReset + " "
}

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
	buf := make([]byte, 0, len(step)+16+len(line))
	buf = append(buf, p.prefix(step)...)
	buf = append(buf, line...)
	_, err := p.w.Write(buf)
	return err
}
