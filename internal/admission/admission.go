package admission

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/config/crd"
)

// workflowSchema is the Workflow CRD's schema, compiled once.
type workflowSchema struct {
	structural *structuralschema.Structural
	openAPI    validation.SchemaValidator
	cel        *cel.Validator
}

var compiled = sync.OnceValues(compileWorkflowSchema)

// compileWorkflowSchema compiles the served version's schema and CEL rules
// as the API server does when the CRD is created.
func compileWorkflowSchema() (*workflowSchema, error) {
	def := crd.Workflows()
	var props *apiextensionsv1.JSONSchemaProps
	for _, v := range def.Spec.Versions {
		if v.Name == kubeciv1.GroupVersion.Version && v.Schema != nil {
			props = v.Schema.OpenAPIV3Schema
		}
	}
	if props == nil {
		return nil, fmt.Errorf("the Workflow CRD has no schema for %s", kubeciv1.GroupVersion.Version)
	}
	internal := &apiextensions.JSONSchemaProps{}
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(props, internal, nil); err != nil {
		return nil, err
	}
	structural, err := structuralschema.NewStructural(internal)
	if err != nil {
		return nil, fmt.Errorf("the Workflow CRD's schema is not structural: %w", err)
	}
	openAPI, _, err := validation.NewSchemaValidator(internal)
	if err != nil {
		return nil, err
	}
	return &workflowSchema{
		structural: structural,
		openAPI:    openAPI,
		cel:        cel.NewValidator(structural, true, celconfig.PerCallLimit),
	}, nil
}

// Validate returns what the API server would refuse in wf when it is created:
// its metadata (name, labels, annotations), then every violation of the CRD's
// schema (types, bounds, patterns, sizes), then of its CEL rules. A Workflow
// without a namespace is checked as if in "default".
func Validate(wf *kubeciv1.Workflow) field.ErrorList {
	s, err := compiled()
	if err != nil {
		return field.ErrorList{field.InternalError(nil, err)}
	}
	wf = wf.DeepCopy()
	wf.APIVersion, wf.Kind = kubeciv1.GroupVersion.String(), "Workflow"
	if wf.Namespace == "" {
		wf.Namespace = "default"
	}
	errs := apivalidation.ValidateObjectMetaAccessor(&wf.ObjectMeta, true, path.ValidatePathSegmentName, field.NewPath("metadata"))
	wf.Status = kubeciv1.WorkflowStatus{}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(wf)
	if err != nil {
		return append(errs, field.InternalError(nil, err))
	}
	delete(obj, "status")
	errs = append(errs, validation.ValidateCustomResource(nil, obj, s.openAPI)...)
	for _, e := range errs {
		tidy(e)
	}
	// The schema validator walks maps: give its errors in a stable order.
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
	if s.cel != nil {
		celErrs, _ := s.cel.Validate(context.Background(), nil, s.structural, obj, nil, celconfig.RuntimeCELCostBudget)
		errs = append(errs, celErrs...)
	}
	return errs
}

// tidy makes a metadata or schema error read as kubeci's own: the refused
// value first (quoted when a string), then the reason, without the
// validator's "FIELD in body" preamble.
func tidy(e *field.Error) {
	detail := strings.TrimPrefix(e.Detail, e.Field+" in body ")
	switch v := e.BadValue.(type) {
	case string:
		detail = fmt.Sprintf("%q: %s", v, detail)
	case int64, int32, int, float64:
		if e.Type == field.ErrorTypeTooMany {
			detail = fmt.Sprintf("has %v: %s", v, detail)
		} else {
			detail = fmt.Sprintf("%v: %s", v, detail)
		}
	}
	e.Detail = detail
}
