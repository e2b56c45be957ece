package cli

import (
	"testing"

	"github.com/kubeci/kubeci/internal/golden"
)

func TestPlan(t *testing.T) {
	for _, format := range []string{"yaml", "json"} {
		t.Run(format, func(t *testing.T) {
			out, errOut, code := runCLI(t, "", "plan", "-f", docExample, "-o", format)
			if code != 0 {
				t.Fatalf("exit code %d: %s", code, errOut)
			}
			golden.Check(t, "plan-doc-example."+format+".golden", []byte(out))
		})
	}
	out, _, code := runCLI(t, "", "plan", "-f", "testdata/workflows/cycle.yaml")
	if code != 1 || out != "" {
		t.Errorf("an invalid workflow must not be planned: code %d, output %q", code, out)
	}
}
