package cli

import (
	"strings"
	"testing"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// kubeci rerun asks the operator for a rerun and prints the new run, which
// repeats the original's trigger and tasks and records it.
func TestRerun(t *testing.T) {
	k := newKube(t)
	k.startOperator()
	wf := k.sample("build", false)
	k.create(wf)
	original := k.workplan(wf, "build-original", kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}, nil)

	out, errOut, code := k.run("rerun", original.Name)
	if code != 0 || errOut != "" {
		t.Fatalf("exit code %d: %s", code, errOut)
	}
	wp := k.runOf(out)
	if wp.Name == original.Name || wp.Spec.RerunOf != original.Name || wp.Labels[kubeciv1.LabelRerunOf] != original.Name {
		t.Errorf("want a new run recording %s, got %s (rerunOf %q, labels %v)", original.Name, wp.Name, wp.Spec.RerunOf, wp.Labels)
	}

	_, errOut, code = k.run("rerun", "no-such-run")
	if code == 0 || !strings.Contains(errOut, `workplan "no-such-run" not found`) {
		t.Errorf("rerun of a missing run: code %d, %q", code, errOut)
	}
}
