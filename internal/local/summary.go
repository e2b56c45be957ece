package local

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteOutcome prints the line that ends a run's summary, with the outcome,
// the first step that failed, the steps counted by outcome and the run's
// duration, then where the workspace is if it was kept. (The steps themselves
// are printed by the CLI, with the task tree of kubeci describe workplan.)
func WriteOutcome(w io.Writer, r *Result) error {
	counts := map[Outcome]int{}
	for _, s := range r.Steps {
		counts[s.Outcome]++
	}
	var parts []string
	for _, o := range []Outcome{Succeeded, Failed, TimedOut, Interrupted, Skipped} {
		if n := counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, o.words()))
		}
	}
	first := ""
	for _, s := range r.Steps {
		if s.Outcome == Failed || s.Outcome == TimedOut {
			first = fmt.Sprintf(" step %s %s", s.Name, s.Outcome.words())
			if s.ExitCode != nil {
				first += fmt.Sprintf(" (exit code %d)", *s.ExitCode)
			}
			first += ";"
			break
		}
	}
	line := fmt.Sprintf("%s:%s %s, in %s.\n", r.Outcome, first, strings.Join(parts, ", "), FormatDuration(r.Finish.Sub(r.Start)))
	if r.WorkspaceKept {
		line += fmt.Sprintf("Workspace kept: %s\n", r.Workspace)
	}
	_, err := io.WriteString(w, line)
	return err
}

// jsonResult is the JSON form of a Result (kubeci run -o json).
type jsonResult struct {
	Workflow        string     `json:"workflow"`
	Workplan        string     `json:"workplan"`
	Namespace       string     `json:"namespace"`
	Runtime         string     `json:"runtime"`
	Workspace       string     `json:"workspace"`
	WorkspaceKept   bool       `json:"workspaceKept"`
	Result          Outcome    `json:"result"`
	StartTime       time.Time  `json:"startTime"`
	DurationSeconds float64    `json:"durationSeconds"`
	Steps           []jsonStep `json:"steps"`
}

type jsonStep struct {
	Name            string     `json:"name"`
	Task            int        `json:"task"`
	Parallel        bool       `json:"parallel"`
	Result          Outcome    `json:"result"`
	ExitCode        *int       `json:"exitCode,omitempty"`
	Message         string     `json:"message,omitempty"`
	StartTime       *time.Time `json:"startTime,omitempty"`
	DurationSeconds *float64   `json:"durationSeconds,omitempty"`
}

// WriteJSON prints the run's result as one JSON object: the run (workflow,
// workplan, runtime, workspace, result, start time, duration) and its steps in
// plan order (name, task, parallel, result, exit code, message, start time,
// duration). Steps that never ran have no exit code, start time or duration.
func WriteJSON(w io.Writer, r *Result) error {
	out := jsonResult{
		Workflow:        r.Workflow,
		Workplan:        r.Workplan,
		Namespace:       r.Namespace,
		Runtime:         r.Runtime,
		Workspace:       r.Workspace,
		WorkspaceKept:   r.WorkspaceKept,
		Result:          r.Outcome,
		StartTime:       r.Start.UTC(),
		DurationSeconds: r.Finish.Sub(r.Start).Seconds(),
		Steps:           []jsonStep{},
	}
	for _, s := range r.Steps {
		js := jsonStep{Name: s.Name, Task: s.Task, Parallel: s.Parallel, Result: s.Outcome, ExitCode: s.ExitCode, Message: s.Message}
		if !s.Start.IsZero() {
			start, took := s.Start.UTC(), s.Duration().Seconds()
			js.StartTime, js.DurationSeconds = &start, &took
		}
		out.Steps = append(out.Steps, js)
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

// NotRun is the result -o json reports when nothing ran.
const NotRun Outcome = "NotRun"

// WriteJSONNotRun writes, as JSON, why nothing ran: {"result": "NotRun",
// "errors": [...]}, so that a program reading -o json always gets an object.
func WriteJSONNotRun(w io.Writer, problems []string) error {
	data, err := json.MarshalIndent(struct {
		Result Outcome  `json:"result"`
		Errors []string `json:"errors"`
	}{NotRun, problems}, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}
