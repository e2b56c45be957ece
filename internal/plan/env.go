package plan

import (
	"maps"
	"path"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/trigger"
)

// StepEnv is the environment Kube CI gives every step: which run, task and step
// it is, and what triggered the run. The step's own env follows it, so a step
// may override these.
func StepEnv(wp *kubeciv1.Workplan, task int, step string) []corev1.EnvVar {
	t := wp.Spec.Trigger
	env := []corev1.EnvVar{
		{Name: kubeciv1.EnvWorkflow, Value: wp.Spec.Workflow},
		{Name: kubeciv1.EnvWorkplan, Value: wp.Name},
		{Name: kubeciv1.EnvNamespace, Value: wp.Namespace},
		{Name: kubeciv1.EnvTask, Value: strconv.Itoa(task)},
		{Name: kubeciv1.EnvStep, Value: step},
		{Name: kubeciv1.EnvWorkspace, Value: kubeciv1.WorkspaceMountPath},
		{Name: kubeciv1.EnvTriggerEvent, Value: string(t.Event)},
		{Name: kubeciv1.EnvTriggerKind, Value: t.Kind},
		{Name: kubeciv1.EnvTriggerNamespace, Value: t.Namespace},
		{Name: kubeciv1.EnvTriggerName, Value: t.Name},
	}
	if t.Object != "" {
		env = append(env, corev1.EnvVar{Name: kubeciv1.EnvTriggerObject, Value: path.Join(kubeciv1.TriggerObjectDir, kubeciv1.TriggerObjectFile)})
	}
	for _, p := range slices.Sorted(maps.Keys(t.Fields)) {
		env = append(env, corev1.EnvVar{Name: trigger.FieldEnvName(p), Value: t.Fields[p]})
	}
	return env
}
