package cli

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/admission"
	"github.com/kubeci/kubeci/internal/plan"
)

// checkWorkflow is every reason the cluster would refuse wf, each once: the
// operator's validation (plan.Validate: it names steps, dependencies and
// cycles precisely), then what the API server refuses (admission.Validate:
// the CRD's schema and CEL rules, the metadata) that the first did not
// already report for the same field or one under it.
func checkWorkflow(wf *kubeciv1.Workflow) field.ErrorList {
	errs := plan.Validate(wf)
	for _, e := range admission.Validate(wf) {
		if !coveredBy(e, errs) {
			errs = append(errs, e)
		}
	}
	return errs
}

// coveredBy reports whether errs already hold an error about e's field or a
// field under it.
func coveredBy(e *field.Error, errs field.ErrorList) bool {
	for _, o := range errs {
		if o.Field == e.Field || strings.HasPrefix(o.Field, e.Field+".") || strings.HasPrefix(o.Field, e.Field+"[") {
			return true
		}
	}
	return false
}
