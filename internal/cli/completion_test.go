package cli

import (
	"strings"
	"testing"
)

func TestCompletion(t *testing.T) {
	k := newKube(t)
	runsFixture(k)
	k.create(k.sample("deploy", false))
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "trigger", ""}, []string{"build", "deploy"}},
		{[]string{"__complete", "trigger", "de"}, []string{"deploy"}},
		{[]string{"__complete", "logs", ""}, []string{"build-run-1", "build-run-2", "build-run-3", "build-run-4"}},
		{[]string{"__complete", "cancel", "build-run-1", "build-run-"}, []string{"build-run-2", "build-run-3", "build-run-4"}},
		{[]string{"__complete", "wait", "build-run-4", ""}, nil},
		{[]string{"__complete", "get", ""}, []string{"workflows", "workplans"}},
		{[]string{"__complete", "get", "wf", ""}, []string{"build", "deploy"}},
		{[]string{"__complete", "describe", "workplan", "build-run-2"}, []string{"build-run-2"}},
		{[]string{"__complete", "logs", "build-run-2", "--step", "step-"}, []string{"step-1", "step-2", "step-3", "step-4", "step-5"}},
		{[]string{"__complete", "get", "wp", "--workflow", ""}, []string{"build", "deploy"}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, errOut, code := k.run(c.args...)
			if code != 0 {
				t.Fatalf("exit code %d: %s", code, errOut)
			}
			// Candidates, one a line, then ":<directive>".
			lines := strings.Split(strings.TrimSpace(out), "\n")
			got := lines[:len(lines)-1]
			if strings.Join(got, " ") != strings.Join(c.want, " ") || lines[len(lines)-1] != ":4" {
				t.Errorf("got %q, want %q then :4 (no file completion)", lines, c.want)
			}
		})
	}

	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, errOut, code := runCLI(t, "", "completion", shell)
		if code != 0 || !strings.Contains(out, "__complete") {
			t.Errorf("kubeci completion %s: code %d, %s; output does not call __complete", shell, code, errOut)
		}
	}
}
