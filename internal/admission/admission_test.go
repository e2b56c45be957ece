package admission

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/config/samples"
	"github.com/kubeci/kubeci/internal/plan"
)

func TestValidate(t *testing.T) {
	ptr := func(v int64) *int64 { return &v }
	ptr32 := func(v int32) *int32 { return &v }
	tests := []struct {
		name   string
		change func(wf *kubeciv1.Workflow)
		want   []string // substrings of the formatted errors, one per error
	}{
		{name: "the design doc's example", change: func(*kubeciv1.Workflow) {}},
		{name: "21 triggers", change: func(wf *kubeciv1.Workflow) {
			for len(wf.Spec.Triggers) < 21 {
				wf.Spec.Triggers = append(wf.Spec.Triggers, wf.Spec.Triggers[0])
			}
		}, want: []string{"spec.triggers: has 21: must have at most 20 items"}},
		{name: "negative deadline", change: func(wf *kubeciv1.Workflow) { wf.Spec.ActiveDeadlineSeconds = ptr(-5) },
			want: []string{"spec.activeDeadlineSeconds: -5: should be greater than or equal to 1"}},
		{name: "negative history limit", change: func(wf *kubeciv1.Workflow) { wf.Spec.SuccessfulRunsHistoryLimit = ptr32(-1) },
			want: []string{"spec.successfulRunsHistoryLimit: -1: should be greater than or equal to 0"}},
		{name: "bad label key", change: func(wf *kubeciv1.Workflow) { wf.Labels = map[string]string{"bad key!": "x"} },
			want: []string{`metadata.labels: "bad key!": name part must consist of alphanumeric characters`}},
		{name: "resource", change: func(wf *kubeciv1.Workflow) { wf.Spec.Triggers[0].Resource = "Config Maps" },
			want: []string{`spec.triggers[0].resource: "Config Maps": should match '^[a-z0-9]`}},
		{name: "CEL rule", change: func(wf *kubeciv1.Workflow) { wf.Spec.Steps[1].Name = wf.Spec.Steps[0].Name },
			want: []string{"spec.steps: step names must be unique", "spec.steps: every dependency must name a step"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := samples.Workflow()
			tt.change(wf)
			var got []string
			for _, e := range Validate(wf) {
				got = append(got, plan.FormatError(e))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Validate gave %d errors, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			var diffs []string
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					diffs = append(diffs, fmt.Sprintf("error %d: %q lacks %q", i, got[i], tt.want[i]))
				}
			}
			if d := cmp.Diff([]string(nil), diffs); d != "" {
				t.Error(d)
			}
		})
	}
}
