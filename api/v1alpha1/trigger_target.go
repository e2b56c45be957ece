package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Target says what t watches, for people: its kind (or resource when no kind
// is given) and which objects: the name it names, else its label selector
// ("app=web"), else "" for every object of the kind.
func (t *Trigger) Target() (kind, which string) {
	kind = t.Kind
	if kind == "" {
		kind = t.Resource
	}
	switch {
	case t.Name != "":
		return kind, t.Name
	case t.Selector != nil && (len(t.Selector.MatchLabels) > 0 || len(t.Selector.MatchExpressions) > 0):
		return kind, metav1.FormatLabelSelector(t.Selector)
	}
	return kind, ""
}
