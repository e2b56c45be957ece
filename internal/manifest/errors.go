package manifest

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// goTypeError matches the decoders' type errors, which name Go types:
// "json: cannot unmarshal bool into Go struct field Step.spec.steps.commands
// of type string", "cannot unmarshal array into Go value of type struct {...}".
var goTypeError = regexp.MustCompile(`cannot unmarshal (\w+) into Go (?:struct field (\S+) of type (\S+)|value of type (.+))$`)

// plainError rewrites a decoder's type error in the Workflow's terms: the
// field, what it holds and what it takes, without Go type names. Other errors
// are returned as they are.
func plainError(err error) error {
	if err == nil {
		return nil
	}
	m := goTypeError.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	got := jsonKind(m[1])
	if m[2] == "" {
		return errors.New("the document is " + got + ", not a mapping of fields: a Workflow is a YAML mapping (apiVersion, kind, metadata, spec)")
	}
	// "Step.spec.steps.commands": the Go type, then the path from the top.
	path := m[2]
	if _, rest, ok := strings.Cut(path, "."); ok {
		path = rest
	}
	return fmt.Errorf("%s: %s where %s is expected", path, got, goKind(m[3]))
}

// jsonKind names a JSON value kind for people.
func jsonKind(kind string) string {
	switch kind {
	case "array":
		return "a list"
	case "object":
		return "a mapping"
	case "bool":
		return "true or false"
	case "number":
		return "a number"
	case "string":
		return "a string"
	}
	return kind
}

// goKind names the value a Go type takes, for people.
func goKind(t string) string {
	t = strings.TrimLeft(t, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "struct"), strings.Contains(t, "."):
		return "a mapping"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "a whole number"
	case strings.HasPrefix(t, "float"):
		return "a number"
	}
	return "another kind of value"
}
