package plan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

func workflow(steps []kubeciv1.Step, triggers ...kubeciv1.Trigger) *kubeciv1.Workflow {
	return &kubeciv1.Workflow{
		ObjectMeta: metav1.ObjectMeta{Name: "wf", Namespace: "default"},
		Spec:       kubeciv1.WorkflowSpec{Steps: steps, Triggers: triggers},
	}
}

func cmTrigger() kubeciv1.Trigger {
	return kubeciv1.Trigger{APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true}
}

func TestValidate(t *testing.T) {
	many := make([]kubeciv1.Step, kubeciv1.MaxSteps+1)
	for i := range many {
		many[i] = step(fmt.Sprintf("s%d", i))
	}
	cases := []struct {
		name string
		wf   *kubeciv1.Workflow
		want []string
	}{
		{"valid", workflow([]kubeciv1.Step{step("a"), step("b", "a")}, cmTrigger()), nil},
		{"no steps", workflow(nil), []string{"spec.steps: a workflow needs at least one step"}},
		{"duplicate names", workflow([]kubeciv1.Step{step("a"), step("a")}),
			[]string{`spec.steps[1].name: step "a" is already defined at spec.steps[0]`}},
		{"unknown dependency", workflow([]kubeciv1.Step{step("a"), step("b"), step("c", "a", "step-9")}),
			[]string{`spec.steps[2].dependency[1]: step "step-9" does not exist`}},
		{"self dependency", workflow([]kubeciv1.Step{step("a", "a")}),
			[]string{`spec.steps[0].dependency[0]: step "a" depends on itself`}},
		{"repeated dependency", workflow([]kubeciv1.Step{step("a"), step("b", "a", "a")}),
			[]string{`spec.steps[1].dependency[1]: step "a" is listed twice`}},
		{"cycle", workflow([]kubeciv1.Step{step("step-1"), step("step-2", "step-1", "step-4"), step("step-3", "step-2"), step("step-4", "step-3")}),
			[]string{"spec.steps[1].dependency[1]: dependency cycle: step-2 -> step-4 -> step-3 -> step-2"}},
		{"two cycles and a step behind one", workflow([]kubeciv1.Step{step("a", "b"), step("b", "a"), step("c", "d"), step("d", "c"), step("e", "a")}),
			[]string{"spec.steps[0].dependency[0]: dependency cycle: a -> b -> a", "spec.steps[2].dependency[0]: dependency cycle: c -> d -> c"}},
		{"empty image and no command", workflow([]kubeciv1.Step{{Name: "a"}}),
			[]string{`spec.steps[0].image: step "a" needs an image`, `spec.steps[0].commands: step "a" needs commands, args or both`}},
		{"bad step name", workflow([]kubeciv1.Step{step("Step_1")}),
			[]string{`spec.steps[0].name: "Step_1" is not a valid step name (it becomes a container name): a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`}},
		{"too many steps", workflow(many),
			[]string{fmt.Sprintf("spec.steps: a workflow may have at most %d steps, since one task's pod may have to hold them all", kubeciv1.MaxSteps)}},
		{"trigger without kind, events or a valid selector", workflow([]kubeciv1.Step{step("a")}, kubeciv1.Trigger{
			APIVersion: "v1", Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "x", Operator: "Sometimes"}}},
		}), []string{
			`spec.triggers[0].kind: a trigger needs a kind (for example "ConfigMap") or a resource (for example "configmaps")`,
			`spec.triggers[0].selector.matchExpressions[0].operator: "Sometimes": not a valid selector operator`,
			"spec.triggers[0].onAddOrUpdate: the trigger fires on nothing: set onAddOrUpdate, onDelete or both",
		}},
		{"selector with a bad label key and value", workflow([]kubeciv1.Step{step("a")}, kubeciv1.Trigger{
			APIVersion: "v1", Kind: "ConfigMap", OnAddOrUpdate: true,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"bad key!": "ok", "app": "no spaces"}},
		}), []string{
			`spec.triggers[0].selector.matchLabels: "bad key!": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
			`spec.triggers[0].selector.matchLabels: "no spaces": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
		}},
		{"bad apiVersion", workflow([]kubeciv1.Step{step("a")}, kubeciv1.Trigger{APIVersion: "a/b/c", Kind: "X", OnDelete: true}),
			[]string{"spec.triggers[0].apiVersion: unexpected GroupVersion string: a/b/c"}},
		{"field paths", workflow([]kubeciv1.Step{step("a")}, kubeciv1.Trigger{
			APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", OnAddOrUpdate: true,
			FieldPaths: []string{"status.artifact.revision", `metadata.labels["app.kubernetes.io/version"]`, "status.conditions[0].status"},
		}), nil},
		{"bad field paths", workflow([]kubeciv1.Step{step("a")}, kubeciv1.Trigger{
			APIVersion: "source.toolkit.fluxcd.io/v1", Kind: "GitRepository", OnDelete: true,
			FieldPaths: []string{"status..revision", "status.artifact.revision", "status.artifact.revision", "status[x]"},
		}), []string{
			`spec.triggers[0].fieldPaths: fieldPaths say which changes start a run: they need onAddOrUpdate`,
			`spec.triggers[0].fieldPaths[0]: "status..revision": at character 7: a key is missing after '.'`,
			`spec.triggers[0].fieldPaths[2]: "status.artifact.revision" is listed twice`,
			`spec.triggers[0].fieldPaths[3]: "status[x]": at character 7: "[x]" is neither a list index nor a quoted key (write [0] or ["a.b"])`,
		}},
		{"a Secret's data as a field", workflow([]kubeciv1.Step{step("a")}, kubeciv1.Trigger{
			APIVersion: "v1", Resource: "secrets", OnAddOrUpdate: true, FieldPaths: []string{"data.password", "metadata.labels.app"},
		}), []string{
			`spec.triggers[0].fieldPaths[0]: "data.password" reads a Secret's data, which runs never get: watch the Secret as a whole (no fieldPaths) to run on its changes`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range Validate(tc.wf) {
				got = append(got, FormatError(e))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateAcceptsDesignDocExample(t *testing.T) {
	if errs := Validate(loadSample(t)); len(errs) > 0 {
		t.Fatal(FormatErrors(errs))
	}
}

func TestNewWorkplan(t *testing.T) {
	wf := loadSample(t)
	wf.UID = "uid-1"
	wp, err := NewWorkplan(wf, kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}, "")
	if err != nil {
		t.Fatal(err)
	}
	if wp.GenerateName != "my-workflow-" || wp.Namespace != "default" || wp.Spec.Workflow != "my-workflow" {
		t.Errorf("unexpected metadata: %+v", wp.ObjectMeta)
	}
	if len(wp.OwnerReferences) != 1 || wp.OwnerReferences[0].UID != "uid-1" || !*wp.OwnerReferences[0].Controller {
		t.Errorf("want a controller owner reference to the workflow, got %+v", wp.OwnerReferences)
	}
	if got := len(wp.Spec.Tasks); got != 2 {
		t.Errorf("want 2 tasks, got %d", got)
	}
	wf.Spec.Steps = append(wf.Spec.Steps, step("step-1"))
	if _, err := NewWorkplan(wf, kubeciv1.TriggerEvent{Event: kubeciv1.EventManual}, ""); err == nil || !strings.Contains(err.Error(), "already defined") {
		t.Errorf("an invalid workflow must not be planned, got %v", err)
	}
}
