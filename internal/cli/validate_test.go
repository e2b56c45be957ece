package cli

import (
	"os"
	"testing"

	"github.com/kubeci/kubeci/internal/golden"
)

const docExample = "../../config/samples/kube.ci_v1alpha1_workflow.yaml"

func TestValidate(t *testing.T) {
	stdin, err := os.ReadFile("testdata/workflows/cycle.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		golden string
	}{
		{"the design doc's example as written", []string{"validate", "-f", docExample}, "", 0, "validate-doc-example.golden"},
		{"a cycle is named", []string{"validate", "-f", "testdata/workflows/cycle.yaml"}, "", 1, "validate-cycle.golden"},
		{"every problem of every document", []string{"validate", "-f", "testdata/workflows/mixed.yaml"}, "", 1, "validate-mixed.golden"},
		{"unparseable YAML", []string{"validate", "-f", "testdata/workflows/broken.yaml"}, "", 1, "validate-broken.golden"},
		{"standard input and several files", []string{"validate", "-f", "-", "-f", docExample}, string(stdin), 1, "validate-stdin.golden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d (stderr: %s)", code, tc.code, errOut)
			}
			golden.Check(t, tc.golden, []byte(out+errOut))
		})
	}
}

func TestValidateMissingFile(t *testing.T) {
	_, errOut, code := runCLI(t, "", "validate", "-f", "testdata/nope.yaml")
	if code != 1 || errOut != "Error: open testdata/nope.yaml: no such file or directory\n" {
		t.Errorf("got code %d, stderr %q", code, errOut)
	}
	_, errOut, code = runCLI(t, "", "validate")
	if code != 1 || errOut != "Error: no file given: use -f FILE (or -f - for standard input)\n" {
		t.Errorf("got code %d, stderr %q", code, errOut)
	}
}
