package manifest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// No message names a Go type: type errors name the field, what it holds and
// what it takes.
func TestTypeErrorsNameNoGoTypes(t *testing.T) {
	head := "apiVersion: kube.ci/v1alpha1\nkind: Workflow\nmetadata: {name: x}\n"
	tests := []struct{ doc, want string }{
		{"- a\n- b\n", "the document is a list, not a mapping of fields: a Workflow is a YAML mapping (apiVersion, kind, metadata, spec)"},
		{head + "spec: {steps: [{name: a, image: b, commands: [true]}]}\n", "cannot be read as a Workflow: spec.steps.commands: true or false where a string is expected"},
		{head + "spec: {activeDeadlineSeconds: x, steps: []}\n", "cannot be read as a Workflow: spec.activeDeadlineSeconds: a string where a whole number is expected"},
		{head + "spec: {steps: 3}\n", "cannot be read as a Workflow: spec.steps: a number where a list is expected"},
		{head + "spec: [1]\n", "cannot be read as a Workflow: spec: a list where a mapping is expected"},
	}
	for _, tt := range tests {
		docs, err := Load("f", strings.NewReader(tt.doc))
		if err != nil {
			t.Fatalf("Load(%q): %v", tt.doc, err)
		}
		got := ""
		if docs[0].Err != nil {
			got = docs[0].Err.Error()
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("Load(%q) error (-want +got):\n%s", tt.doc, d)
		}
	}
}
