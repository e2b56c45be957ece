package runlogs

import (
	"io"
	"strings"
	"testing"
)

// BenchmarkLinePrinter measures prefixing log lines (80 characters each).
func BenchmarkLinePrinter(b *testing.B) {
	line := strings.Repeat("x", 79) + "\n"
	text := strings.Repeat(line, 10000)
	p := NewLinePrinter(io.Discard, true, []string{"build"})
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if err := copyLines(p, "build", strings.NewReader(text)); err != nil {
			b.Fatal(err)
		}
	}
}
