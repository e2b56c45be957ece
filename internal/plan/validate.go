package plan

import (
	"fmt"
	"slices"
	"strings"

	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/trigger"
)

// Validate reports every problem of a Workflow at once, each with its field path
// and a message saying what is wrong: the name, the steps (names, images,
// commands, dependencies, cycles, how many) and the triggers. A Workflow without
// errors can be planned and watched.
func Validate(wf *kubeciv1.Workflow) field.ErrorList {
	var errs field.ErrorList
	if wf.Name == "" && wf.GenerateName == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "name"), "a workflow needs a name"))
	}
	for _, msg := range validation.IsDNS1123Subdomain(wf.Name) {
		if wf.Name != "" {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), wf.Name, msg))
		}
	}
	spec := field.NewPath("spec")
	errs = append(errs, ValidateSteps(wf.Spec.Steps, spec.Child("steps"))...)
	for i := range wf.Spec.Triggers {
		errs = append(errs, validateTrigger(&wf.Spec.Triggers[i], spec.Child("triggers").Index(i))...)
	}
	if sa := wf.Spec.ServiceAccountName; sa != "" {
		for _, msg := range validation.IsDNS1123Subdomain(sa) {
			errs = append(errs, field.Invalid(spec.Child("serviceAccountName"), sa, msg))
		}
	}
	return errs
}

// ValidateSteps reports every problem of a list of steps.
func ValidateSteps(steps []kubeciv1.Step, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case len(steps) == 0:
		errs = append(errs, field.Required(path, "a workflow needs at least one step"))
	case len(steps) > kubeciv1.MaxSteps:
		errs = append(errs, withDetail(field.TooMany(path, len(steps), kubeciv1.MaxSteps),
			fmt.Sprintf("a workflow may have at most %d steps, since one task's pod may have to hold them all", kubeciv1.MaxSteps)))
	}
	for i := range steps {
		errs = append(errs, validateStep(&steps[i], path.Index(i))...)
	}
	_, graphErrs := buildGraph(steps, path)
	return append(errs, graphErrs...)
}

func validateStep(s *kubeciv1.Step, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), "a step needs a name"))
	}
	for _, msg := range validation.IsDNS1123Label(s.Name) {
		if s.Name != "" {
			errs = append(errs, field.Invalid(path.Child("name"), s.Name,
				fmt.Sprintf("%q is not a valid step name (it becomes a container name): %s", s.Name, msg)))
		}
	}
	if s.Image == "" {
		errs = append(errs, field.Required(path.Child("image"), fmt.Sprintf("step %q needs an image", s.Name)))
	}
	for i, e := range s.Env {
		for _, msg := range validation.IsEnvVarName(e.Name) {
			errs = append(errs, field.Invalid(path.Child("env").Index(i).Child("name"), e.Name,
				fmt.Sprintf("%q is not a valid environment variable name for step %q: %s", e.Name, s.Name, msg)))
		}
	}
	if len(s.Commands) == 0 && len(s.Args) == 0 {
		errs = append(errs, field.Required(path.Child("commands"),
			fmt.Sprintf("step %q needs commands, args or both", s.Name)))
	}
	return errs
}

func validateTrigger(t *kubeciv1.Trigger, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.APIVersion == "" {
		errs = append(errs, field.Required(path.Child("apiVersion"), `a trigger needs an apiVersion, for example "v1" or "apps/v1"`))
	} else if _, err := schema.ParseGroupVersion(t.APIVersion); err != nil {
		errs = append(errs, field.Invalid(path.Child("apiVersion"), t.APIVersion, err.Error()))
	}
	if t.Kind == "" && t.Resource == "" {
		errs = append(errs, field.Required(path.Child("kind"), `a trigger needs a kind (for example "ConfigMap") or a resource (for example "configmaps")`))
	}
	if t.Namespace != "" {
		for _, msg := range validation.IsDNS1123Label(t.Namespace) {
			errs = append(errs, field.Invalid(path.Child("namespace"), t.Namespace, msg))
		}
	}
	// The validator walks matchLabels in map order: sort its errors so that
	// the same selector always reads the same.
	selErrs := metav1validation.ValidateLabelSelector(t.Selector, metav1validation.LabelSelectorValidationOptions{}, path.Child("selector"))
	for _, e := range selErrs {
		quoteBadValue(e)
	}
	slices.SortStableFunc(selErrs, func(a, b *field.Error) int { return strings.Compare(a.Error(), b.Error()) })
	errs = append(errs, selErrs...)
	if !t.OnAddOrUpdate && !t.OnDelete {
		errs = append(errs, field.Required(path.Child("onAddOrUpdate"),
			"the trigger fires on nothing: set onAddOrUpdate, onDelete or both"))
	}
	return append(errs, validateFieldPaths(t, path.Child("fieldPaths"))...)
}

// maxFieldPaths is how many fields one trigger may watch (the CRD's limit).
const maxFieldPaths = 8

// validateFieldPaths checks a trigger's fieldPaths: each parses, none is
// repeated, none reads a Secret's data (its values would be copied into runs),
// and a trigger watching fields fires on changes, so it needs onAddOrUpdate.
func validateFieldPaths(t *kubeciv1.Trigger, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(t.FieldPaths) > maxFieldPaths {
		errs = append(errs, field.TooMany(path, len(t.FieldPaths), maxFieldPaths))
	}
	if len(t.FieldPaths) > 0 && !t.OnAddOrUpdate {
		errs = append(errs, field.Invalid(path, t.FieldPaths,
			"fieldPaths say which changes start a run: they need onAddOrUpdate"))
	}
	secret := isSecretTrigger(t)
	seen := map[string]bool{}
	for i, text := range t.FieldPaths {
		p, err := trigger.ParseFieldPath(text)
		switch {
		case err != nil:
			errs = append(errs, field.Invalid(path.Index(i), text, fmt.Sprintf("%q: %v", text, err)))
		case seen[text]:
			errs = append(errs, field.Invalid(path.Index(i), text, fmt.Sprintf("%q is listed twice", text)))
		case secret && trigger.SecretDataPath(p):
			errs = append(errs, field.Forbidden(path.Index(i),
				fmt.Sprintf("%q reads a Secret's data, which runs never get: watch the Secret as a whole (no fieldPaths) to run on its changes", text)))
		}
		seen[text] = true
	}
	return errs
}

// isSecretTrigger reports whether t watches core Secrets.
func isSecretTrigger(t *kubeciv1.Trigger) bool {
	return t.APIVersion == "v1" && (t.Kind == "Secret" || t.Resource == "secrets")
}
