package local

import (
	"bytes"
	"context"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kubeci/kubeci/internal/golden"
)

func TestLineWriter(t *testing.T) {
	var out bytes.Buffer
	p := NewPrinter(&out, &out, false, false)
	p.steps([]string{"a", "longer"})
	w := p.lines("a", false)
	for _, chunk := range []string{"one\ntw", "o\r\n", "\n", "three", strings.Repeat("x", maxLine), "\nlast"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	// A line too long is printed in parts: the first as soon as it is too long.
	want := "a      | one\na      | two\na      |\na      | three" + strings.Repeat("x", maxLine) + "\na      | last\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestColour(t *testing.T) {
	var out bytes.Buffer
	p := NewPrinter(&out, &out, true, true)
	p.steps([]string{"a"})
	w := p.lines("a", false)
	w.Write([]byte("hi\n"))
	p.finished(StepResult{Name: "a", Outcome: Failed})
	got := out.String()
	if !strings.Contains(got, "\x1b[36ma |"+colorReset+" hi\n") || !strings.Contains(got, colorRed+"failed"+colorReset) {
		t.Errorf("no colour in %q", got)
	}
	out.Reset()
	p = NewPrinter(&out, &out, false, false)
	p.steps([]string{"a"})
	p.lines("a", false).Write([]byte("hi\n"))
	p.finished(StepResult{Name: "a", Outcome: Failed})
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("colour without a terminal: %q", out.String())
	}
}

// workspacePath matches a temporary workspace's path, which differs run to run.
var workspacePath = regexp.MustCompile(`/\S*/kubeci-run-\d+-\d+/workspace`)

// goldenRun runs an example with the host runtime and a clock that stands
// still, so that every duration is 0s, and returns its output and result.
func goldenRun(t *testing.T, example string) (out, errOut string, res *Result) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the golden runs use the host runtime, which needs Linux")
	}
	var o, e bytes.Buffer
	res, err := Run(context.Background(), loadExample(t, example), Config{
		Runtime: hostRuntime(t),
		Printer: NewPrinter(&o, &e, false, false),
		Clock:   clocktesting.NewFakePassiveClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		RunID:   "0123456789",
	})
	if err != nil {
		t.Fatal(err)
	}
	return workspacePath.ReplaceAllString(o.String(), "WORKSPACE"), workspacePath.ReplaceAllString(e.String(), "WORKSPACE"), res
}

// The whole text output of a failing run, with the line that ends its summary
// (the CLI prints its steps, internal/cli's run-summary goldens): its steps are
// serial, so their lines come in a fixed order.
func TestGoldenFailingText(t *testing.T) {
	out, errOut, res := goldenRun(t, "failing.yaml")
	var summary bytes.Buffer
	if err := WriteOutcome(&summary, res); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "failing.txt", []byte("--- standard output\n"+out+"\n"+summary.String()+"--- standard error\n"+errOut))
}

// The design doc's example runs parallel steps, whose lines interleave as they
// come: its outcome line and JSON result have a fixed form.
func TestGoldenDesignDocOutcomeAndJSON(t *testing.T) {
	_, _, res := goldenRun(t, "design-doc.yaml")
	var summary, js bytes.Buffer
	if err := WriteOutcome(&summary, res); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, res); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "design-doc.outcome.txt", []byte(summary.String()))
	golden.Check(t, "design-doc.json", []byte(workspacePath.ReplaceAllString(js.String(), "WORKSPACE")))
}

// Colour is decided per stream: a terminal on standard error only gets
// colour there.
func TestColourPerStream(t *testing.T) {
	var out, errOut bytes.Buffer
	p := NewPrinter(&out, &errOut, false, true)
	p.steps([]string{"a"})
	p.Warnf("careful")
	l := p.lines("a", false)
	l.Write([]byte("to stdout\n"))
	e := p.lines("a", true)
	e.Write([]byte("to stderr\n"))
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("standard output is coloured: %q", out.String())
	}
	if !strings.Contains(errOut.String(), "\x1b[") {
		t.Errorf("standard error is not coloured: %q", errOut.String())
	}
}
