package plan

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// FormatError renders a validation error as "field.path: what is wrong", the
// form the CLI and the Workflow's Ready condition use.
func FormatError(e *field.Error) string {
	if e.Detail != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Detail)
	}
	return e.Error()
}

// FormatErrors renders every error on its own line.
func FormatErrors(errs field.ErrorList) string {
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = FormatError(e)
	}
	return strings.Join(lines, "\n")
}

// withDetail sets the human-readable detail of a field error.
func withDetail(e *field.Error, detail string) *field.Error {
	e.Detail = detail
	return e
}
