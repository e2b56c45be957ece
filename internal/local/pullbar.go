package local

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// barWidth is the width of a pull's progress bar, in characters.
const barWidth = 30

// PullBar draws one progress bar per image pull on a terminal, redrawn in
// place at most every tenth of a second: "pulling alpine [=====>    ] 1.2/3.4 MB".
type PullBar struct {
	w   io.Writer
	ref string

	mu         sync.Mutex
	total, got int64
	drawn      time.Time
}

// NewPullBars returns a PullProgress per image that draws on w; it is meant
// for a terminal (RuntimeOptions.Progress).
func NewPullBars(w io.Writer) func(ref string) PullProgress {
	return func(ref string) PullProgress { return &PullBar{w: w, ref: ref} }
}

// Start draws the empty bar.
func (b *PullBar) Start(_ string, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.total = total
	b.draw()
}

// Add counts n more bytes and redraws when it is time.
func (b *PullBar) Add(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got += n
	if time.Since(b.drawn) >= 100*time.Millisecond {
		b.draw()
	}
}

// Done draws the last state and ends the line.
func (b *PullBar) Done(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		b.got = b.total
	}
	b.draw()
	fmt.Fprintln(b.w)
}

func (b *PullBar) draw() {
	b.drawn = time.Now()
	fmt.Fprintf(b.w, "\r%s", pullLine(b.ref, b.got, b.total))
}

// pullLine is the text of a pull's bar.
func pullLine(ref string, got, total int64) string {
	filled := barWidth
	if total > 0 && got < total {
		filled = int(got * barWidth / total)
	}
	bar := strings.Repeat("=", filled)
	if filled < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	return fmt.Sprintf("pulling %s [%s] %.1f/%.1f MB", ref, bar, float64(got)/1e6, float64(total)/1e6)
}
