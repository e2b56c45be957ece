package runlogs

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestLinePrinter(t *testing.T) {
	cases := []struct {
		name  string
		color bool
		in    string
		want  string
	}{
		{"lines", false, "a\nb\n", "step-2 | a\nstep-2 | b\n"},
		{"last line without newline", false, "a\nb", "step-2 | a\nstep-2 | b\n"},
		{"empty lines kept", false, "\n\nc\n", "step-2 |\nstep-2 |\nstep-2 | c\n"},
		{"nothing", false, "", ""},
		{"colour by plan order", true, "a\n", "\x1b[35mstep-2 |\x1b[0m a\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out strings.Builder
			p := NewLinePrinter(&out, c.color, []string{"step-1", "step-2"})
			if err := copyLines(p, "step-2", strings.NewReader(c.in)); err != nil {
				t.Fatal(err)
			}
			if out.String() != c.want {
				t.Errorf("got %q, want %q", out.String(), c.want)
			}
		})
	}
}

// Lines of steps copied at once come out whole, each with its own prefix.
func TestLinePrinterInterleavesWholeLines(t *testing.T) {
	var out syncBuilder
	p := NewLinePrinter(&out, false, nil)
	long := strings.Repeat("x", 10000)
	var wg sync.WaitGroup
	for _, step := range []string{"a", "b", "c"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var in strings.Builder
			for i := range 200 {
				fmt.Fprintf(&in, "%s %d %s\n", step, i, long)
			}
			if err := copyLines(p, step, strings.NewReader(in.String())); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 600 {
		t.Fatalf("want 600 lines, got %d", len(lines))
	}
	next := map[string]int{}
	for _, l := range lines {
		var step, prefix, bar, rest string
		var i int
		if _, err := fmt.Sscanf(l, "%s %s %s %d %s", &prefix, &bar, &step, &i, &rest); err != nil || prefix != step || bar != "|" || rest != long || i != next[step] {
			t.Fatalf("broken or out-of-order line: %.60q...", l)
		}
		next[step]++
	}
}
