package runrequest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

func TestPending(t *testing.T) {
	wf := func(ann map[string]string, run, rerun string) *kubeciv1.Workflow {
		return &kubeciv1.Workflow{ObjectMeta: metav1.ObjectMeta{Annotations: ann},
			Status: kubeciv1.WorkflowStatus{LastHandledRunRequest: run, LastHandledRerunRequest: rerun}}
	}
	cases := []struct {
		name string
		kind Kind
		wf   *kubeciv1.Workflow
		want string
	}{
		{"no request", Run, wf(nil, "", ""), ""},
		{"answered run", Run, wf(map[string]string{kubeciv1.AnnotationRunRequest: "a"}, "a", ""), ""},
		{"new run", Run, wf(map[string]string{kubeciv1.AnnotationRunRequest: "b"}, "a", ""), "b"},
		{"a rerun does not block a run", Run, wf(map[string]string{kubeciv1.AnnotationRerunRequest: "wp/b"}, "", ""), ""},
		{"new rerun", Rerun, wf(map[string]string{kubeciv1.AnnotationRerunRequest: "wp/b"}, "", "wp/a"), "wp/b"},
		{"answered rerun", Rerun, wf(map[string]string{kubeciv1.AnnotationRerunRequest: "wp/b"}, "", "wp/b"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.kind.Pending(tc.wf)); diff != "" {
				t.Error(diff)
			}
		})
	}
}

func TestParseRerun(t *testing.T) {
	type parsed struct {
		Workplan, ID string
		OK           bool
	}
	cases := map[string]parsed{
		RerunValue("wf-1234", "20260101-x"): {"wf-1234", "20260101-x", true},
		"wf-1234":                           {"wf-1234", "", false},
		"/id":                               {"", "id", false},
		"wp/":                               {"wp", "", false},
	}
	for in, want := range cases {
		wp, id, ok := ParseRerun(in)
		if diff := cmp.Diff(want, parsed{wp, id, ok}); diff != "" {
			t.Errorf("%q: %s", in, diff)
		}
	}
}
