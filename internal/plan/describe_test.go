package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0 steps"}, {1, "1 step"}, {2, "2 steps"}} {
		if got := Count(tc.n, "step"); got != tc.want {
			t.Errorf("Count(%d, step) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestStepNames(t *testing.T) {
	task := kubeciv1.Task{
		SerialSteps:   []kubeciv1.Step{{Name: "a"}, {Name: "b"}},
		ParallelSteps: []kubeciv1.Step{{Name: "c"}, {Name: "d"}},
	}
	if diff := cmp.Diff([]string{"a", "b", "c", "d"}, StepNames(task.SerialSteps, task.ParallelSteps)); diff != "" {
		t.Errorf("a task's steps in the order they run (-want +got):\n%s", diff)
	}
	if got := StepNames(); got != nil {
		t.Errorf("StepNames() = %v, want nil", got)
	}
}
