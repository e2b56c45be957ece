package local

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteSummary prints the run's summary: a table of its steps (step, task,
// result, exit code, duration), one line with the outcome and where the
// workspace is.
func WriteSummary(w io.Writer, r *Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tTASK\tRESULT\tEXIT CODE\tDURATION")
	counts := map[Outcome]int{}
	for _, s := range r.Steps {
		counts[s.Outcome]++
		code, took := "-", "-"
		if s.ExitCode != nil {
			code = strconv.Itoa(*s.ExitCode)
		}
		if !s.Start.IsZero() {
			took = formatDuration(s.Duration())
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", s.Name, s.Task, s.Outcome, code, took)
	}
	if err := tw.Flush(); err != nil {
		return err
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
	fmt.Fprintf(w, "%s:%s %s, in %s.\n", r.Outcome, first, strings.Join(parts, ", "), formatDuration(r.Finish.Sub(r.Start)))
	if r.WorkspaceKept {
		fmt.Fprintf(w, "Workspace kept: %s\n", r.Workspace)
	}
	return nil
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
