package cli

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
)

func newDescribeCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "describe workplan|workflow NAME",
		Short: "Show a run (its tasks and steps as a tree) or a Workflow in detail, with recent events",
		Long: `Describe a Workplan: its trigger, phase and reason, node and times, its tasks
and steps as a tree with each step's state, exit code and duration, its
conditions, and the recent events about it and its pods.

Describe a Workflow: whether it is Ready and why, its triggers, its steps
and how they are planned into tasks, its recent runs and events.`,
		Example: `  kubeci describe workplan my-workflow-5d8f7c9b2a
  kubeci describe wf my-workflow`,
		Args:              cobra.ExactArgs(2),
		ValidArgsFunction: o.completeKindThenNames(false),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := parseKind(args[0])
			if err != nil {
				return err
			}
			c, err := o.connect()
			if err != nil {
				return err
			}
			if k == kindWorkflow {
				return describeWorkflow(cmd.Context(), c, o.Out, args[1], o.Clock)
			}
			return describeWorkplan(cmd.Context(), c, o.Out, args[1], o.Clock)
		},
	}
}

// description is a kubectl describe-like text: aligned "Key: value" fields,
// then titled sections holding aligned columns or trees.
type description struct {
	b      strings.Builder
	fields [][2]string
}

// field adds a "Key: value" line; the fields written before a section are
// aligned together.
func (d *description) field(key, value string) {
	if value == "" {
		value = none
	}
	d.fields = append(d.fields, [2]string{key, value})
}

// flushFields writes the pending fields, their values aligned.
func (d *description) flushFields() {
	width := 0
	for _, f := range d.fields {
		width = max(width, utf8.RuneCountInString(f[0])+1)
	}
	indent := "\n" + strings.Repeat(" ", width+2)
	for _, f := range d.fields {
		value := strings.ReplaceAll(strings.TrimRight(f[1], "\n"), "\n", indent)
		fmt.Fprintf(&d.b, "%-*s  %s\n", width, f[0]+":", value)
	}
	d.fields = nil
}

// section starts a titled section; empty says what to print when it has no
// lines ("Events:  <none>").
func (d *description) section(title string, lines []string, empty string) {
	d.flushFields()
	if len(lines) == 0 {
		fmt.Fprintf(&d.b, "%s:  %s\n", title, empty)
		return
	}
	fmt.Fprintf(&d.b, "%s:\n", title)
	for _, l := range lines {
		d.b.WriteString("  " + l + "\n")
	}
}

func (d *description) writeTo(w io.Writer) error {
	d.flushFields()
	_, err := io.WriteString(w, d.b.String())
	return err
}

// align lays rows out in columns two spaces apart, without trailing spaces.
// A row may have fewer cells than others: its last cell is not padded and
// does not widen its column (a tree's heading line, for example).
func align(rows [][]string) []string {
	var widths []int
	for _, r := range rows {
		for i, cell := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			if i < len(r)-1 {
				widths[i] = max(widths[i], utf8.RuneCountInString(cell))
			}
		}
	}
	out := make([]string, len(rows))
	for j, r := range rows {
		var b strings.Builder
		for i, cell := range r {
			b.WriteString(cell)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)+2))
			}
		}
		out[j] = strings.TrimRight(b.String(), " ")
	}
	return out
}

// conditionLines are the rows of a Conditions section.
func conditionLines(clk clock.PassiveClock, conds []metav1.Condition) []string {
	if len(conds) == 0 {
		return nil
	}
	rows := [][]string{{"TYPE", "STATUS", "REASON", "AGE", "MESSAGE"}}
	for _, c := range conds {
		rows = append(rows, []string{c.Type, string(c.Status), c.Reason, age(clk, c.LastTransitionTime), firstLine(c.Message, 120)})
	}
	return align(rows)
}

// condition returns condition typ, or an empty one.
func condition(conds []metav1.Condition, typ string) metav1.Condition {
	if c := meta.FindStatusCondition(conds, typ); c != nil {
		return *c
	}
	return metav1.Condition{}
}
