package local

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/plan"
)

// Step is what a runtime is given to run one step of a run.
type Step struct {
	// Name of the step.
	Name string
	// Task is the index of the task holding the step.
	Task int
	// Parallel is true for a parallel step.
	Parallel bool
	// Image the step names (the host runtime ignores it).
	Image string
	// Command is the step's entrypoint (a container's command); empty means the
	// image's own entrypoint.
	Command []string
	// Args are the entrypoint's arguments.
	Args []string
	// Env is the step's environment as KEY=VALUE: the KUBECI_* variables the
	// operator sets, then the step's own env.
	Env []string
	// WorkingDir is the step's working directory; empty means the runtime's
	// default.
	WorkingDir string
}

// newSteps builds the steps of wp, in plan order.
// extraEnv (KEY=VALUE) follows the operator's variables, before the step's
// own env.
func newSteps(wp *kubeciv1.Workplan, extraEnv []string) []Step {
	var steps []Step
	for _, ts := range plan.Steps(wp.Spec.Tasks) {
		steps = append(steps, newStep(wp, ts, extraEnv))
	}
	return steps
}

// newStep builds what a runtime runs for one step of wp, the way the operator
// builds its container: plan.StepEnv followed by the step's own env, and
// $(VAR) references in env values, commands and args expanded as the kubelet
// expands them. The step's env must hold plain values only (see Unsupported).
func newStep(wp *kubeciv1.Workplan, ts plan.TaskStep, extraEnv []string) Step {
	vars := map[string]string{}
	var env []string
	add := func(name, value string) {
		vars[name] = value
		env = append(env, name+"="+value)
	}
	for _, e := range plan.StepEnv(wp, ts.Task, ts.Step.Name) {
		add(e.Name, e.Value)
	}
	for _, kv := range extraEnv {
		name, value, _ := strings.Cut(kv, "=")
		add(name, value)
	}
	for _, e := range ts.Step.Env {
		add(e.Name, expand(e.Value, vars))
	}
	return Step{
		Name:       ts.Step.Name,
		Task:       ts.Task,
		Parallel:   ts.Parallel,
		Image:      ts.Step.Image,
		Command:    expandAll(ts.Step.Commands, vars),
		Args:       expandAll(ts.Step.Args, vars),
		Env:        env,
		WorkingDir: ts.Step.WorkingDir,
	}
}

// Unsupported reports the parts of a valid Workflow that cannot work without
// a cluster, in the validator's format: env entries whose value comes from
// the cluster (valueFrom).
func Unsupported(wf *kubeciv1.Workflow) field.ErrorList {
	var errs field.ErrorList
	steps := field.NewPath("spec", "steps")
	for i, s := range wf.Spec.Steps {
		for j, e := range s.Env {
			if e.ValueFrom == nil {
				continue
			}
			errs = append(errs, field.Forbidden(steps.Index(i).Child("env").Index(j).Child("valueFrom"),
				fmt.Sprintf("step %q takes %s from %s, which only a cluster can resolve: kubeci run supports env entries with a plain value; "+
					"give %s a value (in a local copy of the file) or run the workflow on a cluster",
					s.Name, e.Name, valueSource(e.ValueFrom), e.Name)))
		}
	}
	return errs
}

// valueSource names where a valueFrom takes its value.
func valueSource(v *corev1.EnvVarSource) string {
	switch {
	case v.SecretKeyRef != nil:
		return fmt.Sprintf("key %q of Secret %q", v.SecretKeyRef.Key, v.SecretKeyRef.Name)
	case v.ConfigMapKeyRef != nil:
		return fmt.Sprintf("key %q of ConfigMap %q", v.ConfigMapKeyRef.Key, v.ConfigMapKeyRef.Name)
	case v.FieldRef != nil:
		return fmt.Sprintf("the pod's field %s", v.FieldRef.FieldPath)
	case v.ResourceFieldRef != nil:
		return fmt.Sprintf("the container's resource %s", v.ResourceFieldRef.Resource)
	case v.FileKeyRef != nil:
		return fmt.Sprintf("key %q of file %q", v.FileKeyRef.Key, v.FileKeyRef.Path)
	}
	return "valueFrom"
}

func expandAll(in []string, vars map[string]string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, vars)
	}
	return out
}

// expand replaces $(NAME) with the value of NAME when vars defines it, as a
// pod's container does: "$$" is a literal "$", and a reference to an unknown
// variable, or an unclosed "$(", stays as written.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
