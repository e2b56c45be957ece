package samples

import "testing"

func TestWorkflow(t *testing.T) {
	wf := Workflow()
	if wf.Name != "my-workflow" || len(wf.Spec.Steps) != 5 || len(wf.Spec.Triggers) != 1 {
		t.Fatalf("want the design doc's my-workflow with 5 steps and 1 trigger, got %s with %d steps and %d triggers",
			wf.Name, len(wf.Spec.Steps), len(wf.Spec.Triggers))
	}
	wf.Spec.Steps[0].Name = "changed"
	if Workflow().Spec.Steps[0].Name == "changed" {
		t.Error("Workflow returns a shared value: a caller's change shows in the next copy")
	}
}
