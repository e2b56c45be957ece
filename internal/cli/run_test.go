package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Exit codes, messages and JSON of the local commands when the input or the
// arguments are wrong: nothing runs, and every message says what to do in
// the Workflow's terms.
func TestLocalCommandsRefuse(t *testing.T) {
	big := strings.Repeat("#", maxInput+1)
	cases := []struct {
		name  string
		args  []string
		stdin string
		code  int
		// want are substrings of standard error (or output for validate).
		want []string
	}{
		{"an extra argument", []string{"run", "-f", docExample, "extra"}, "", 2,
			[]string{`Error: kubeci run takes no arguments, got "extra"`, "See 'kubeci run --help'."}},
		{"an unknown flag", []string{"plan", "--bogus"}, "", 2, []string{"Error: unknown flag: --bogus"}},
		{"-f twice", []string{"run", "-f", docExample, "-f", "other.yaml"}, "", 2,
			[]string{"Error: -f given 2 times (" + docExample + ", other.yaml): kubeci run runs one Workflow file"}},
		{"standard input over the cap", []string{"run", "-f", "-"}, big, 2,
			[]string{"Error: standard input is larger than 10 MiB"}},
		{"validate over the cap", []string{"validate", "-f", "-"}, big, 1,
			[]string{"Error: standard input is larger than 10 MiB"}},
		{"a YAML list", []string{"validate", "-f", "-"}, "- a\n- b\n", 1,
			[]string{"-: document 1: the document is a list, not a mapping of fields"}},
		{"what the API server refuses", []string{"validate", "-f", "testdata/workflows/refused.yaml"}, "", 1, []string{
			`spec.steps[0].env[0].name: "1BAD" is not a valid environment variable name`,
			`metadata.labels: "bad key!": name part must consist of alphanumeric characters`,
			"spec.activeDeadlineSeconds: -5: should be greater than or equal to 1",
			"spec.successfulRunsHistoryLimit: -1: should be greater than or equal to 0",
			`spec.triggers[0].resource: "Config Maps": should match`,
		}},
		{"run refuses it too", []string{"run", "-f", "testdata/workflows/refused.yaml"}, "", 2,
			[]string{"spec.activeDeadlineSeconds: -5: should be greater than or equal to 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
			if strings.Contains(out+errOut, "Go ") || strings.Contains(out+errOut, "struct {") {
				t.Errorf("output names Go types:\n%s%s", out, errOut)
			}
		})
	}
}

// JSON outputs are valid JSON in every case: run -o json when nothing ran,
// plan -o json of several Workflows.
func TestLocalCommandsJSON(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want map[string]any // top-level fields to compare
	}{
		{"run -o json of an invalid workflow", []string{"run", "-o", "json", "-f", "testdata/workflows/refused.yaml"}, 2,
			map[string]any{"result": "NotRun"}},
		{"run -o json of a missing file", []string{"run", "-o", "json", "-f", "no-such.yaml"}, 2,
			map[string]any{"result": "NotRun", "errors": []any{"open no-such.yaml: no such file or directory"}}},
		{"run -o json given an extra argument", []string{"run", "-o", "json", "-f", docExample, "extra"}, 2,
			map[string]any{"result": "NotRun", "errors": []any{`kubeci run takes no arguments, got "extra"`}}},
		{"plan -o json of two workflows", []string{"plan", "-o", "json", "-f", docExample, "-f", "../../examples/failing.yaml"}, 0,
			map[string]any{"apiVersion": "v1", "kind": "List"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit code %d, want %d\n%s", code, tc.code, errOut)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("standard output is not JSON (%v):\n%s", err, out)
			}
			picked := map[string]any{}
			for k := range tc.want {
				picked[k] = got[k]
			}
			if d := cmp.Diff(tc.want, picked); d != "" {
				t.Errorf("JSON (-want +got):\n%s", d)
			}
		})
	}
}
