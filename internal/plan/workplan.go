package plan

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/names"
)

// NewWorkplan builds the Workplan that runs wf once for the given trigger event:
// its tasks planned from wf's current steps, owned by wf, labelled with its name,
// and carrying wf's service account and deadline. It is named name when name is
// not empty (operators use a deterministic name so a retry cannot start a second
// run), else generated from wf's name. It fails when wf is invalid.
func NewWorkplan(wf *kubeciv1.Workflow, trigger kubeciv1.TriggerEvent, name string) (*kubeciv1.Workplan, error) {
	if errs := Validate(wf); len(errs) > 0 {
		return nil, fmt.Errorf("workflow %s is invalid:\n%s", wf.Name, FormatErrors(errs))
	}
	tasks, err := Plan(wf.Spec.Steps)
	if err != nil {
		return nil, err
	}
	return newWorkplan(wf, name, kubeciv1.WorkplanSpec{
		Workflow:              wf.Name,
		Tasks:                 tasks,
		Trigger:               trigger,
		ServiceAccountName:    wf.Spec.ServiceAccountName,
		ActiveDeadlineSeconds: wf.Spec.ActiveDeadlineSeconds,
	}), nil
}

// Rerun builds the Workplan that runs original again, named name: the same
// tasks, trigger event (copied whole, with every field it records), service
// account and deadline, owned by wf and recording original in spec.rerunOf and
// the kube.ci/rerun-of label. A rerun repeats a run as it was (the same steps
// for the same object, the same commit), so that it is reproducible; running
// the Workflow's current steps is what a trigger does.
func Rerun(wf *kubeciv1.Workflow, original *kubeciv1.Workplan, name string) *kubeciv1.Workplan {
	src := original.Spec.DeepCopy()
	wp := newWorkplan(wf, name, kubeciv1.WorkplanSpec{
		Workflow:              wf.Name,
		Tasks:                 src.Tasks,
		Trigger:               src.Trigger,
		ServiceAccountName:    src.ServiceAccountName,
		ActiveDeadlineSeconds: src.ActiveDeadlineSeconds,
		RerunOf:               original.Name,
	})
	wp.Labels[kubeciv1.LabelRerunOf] = names.LabelValue(original.Name)
	return wp
}

// newWorkplan wraps spec in a Workplan of wf's namespace, owned by wf and
// labelled with its name.
func newWorkplan(wf *kubeciv1.Workflow, name string, spec kubeciv1.WorkplanSpec) *kubeciv1.Workplan {
	wp := &kubeciv1.Workplan{
		TypeMeta: metav1.TypeMeta{APIVersion: kubeciv1.GroupVersion.String(), Kind: "Workplan"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: wf.Namespace,
			Labels:    map[string]string{kubeciv1.LabelWorkflow: names.LabelValue(wf.Name)},
		},
		Spec: spec,
	}
	if name == "" {
		wp.GenerateName = names.WorkplanPrefix(wf.Name)
	}
	if wf.UID != "" {
		wp.OwnerReferences = []metav1.OwnerReference{{
			APIVersion:         kubeciv1.GroupVersion.String(),
			Kind:               "Workflow",
			Name:               wf.Name,
			UID:                wf.UID,
			Controller:         ptr.To(true),
			BlockOwnerDeletion: ptr.To(true),
		}}
	}
	return wp
}
