package plan

import (
	"fmt"
	"reflect"
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

// quoteBadValue puts the refused value of e, when it is a string, in front of
// its detail: FormatError prints the detail only, and an error from an
// apimachinery validator does not repeat the value there.
func quoteBadValue(e *field.Error) {
	if v := reflect.ValueOf(e.BadValue); v.Kind() == reflect.String {
		e.Detail = fmt.Sprintf("%q: %s", v.String(), e.Detail)
	}
}
