package cli

import (
	"io"
	"strings"

	"github.com/kubeci/kubeci/internal/local"
)

// writeRunSummary prints the summary that ends kubeci run: the run's task
// tree, drawn by the printer of kubeci describe workplan (taskTree), then the
// line with the outcome and where the workspace is (local.WriteOutcome).
func writeRunSummary(w io.Writer, r *local.Result) error {
	var steps []treeStep
	for _, s := range r.Steps {
		took := ""
		if !s.Start.IsZero() {
			took = local.FormatDuration(s.Duration())
		}
		steps = append(steps, treeStep{StepStatus: s.Status(), Parallel: s.Parallel, Duration: took})
	}
	var b strings.Builder
	for _, l := range taskTree(steps, taskHeading) {
		b.WriteString(l + "\n")
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return local.WriteOutcome(w, r)
}
