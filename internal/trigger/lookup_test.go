package trigger

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// How a Workflow's candidates are found in an informer's cache: by name, by a
// required label, or, as soon as one trigger of the target needs it, by
// listing every object. Triggers of other targets do not count.
func TestLookups(t *testing.T) {
	cms := Target{GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Kind: "ConfigMap", Namespace: "ns"}
	secrets := Target{GVR: schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, Kind: "Secret", Namespace: "ns"}
	filter := func(target Target, tr kubeciv1.Trigger) Filter { return mustFilter(t, target, tr) }
	named := filter(cms, kubeciv1.Trigger{Name: "a"})
	labelled := filter(cms, kubeciv1.Trigger{Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"x", "y"}}}}})
	everything := filter(cms, kubeciv1.Trigger{})
	otherTarget := filter(secrets, kubeciv1.Trigger{})

	cases := []struct {
		name    string
		filters []Filter
		want    []Lookup
		all     bool
	}{
		{"a named object", []Filter{named}, []Lookup{{Name: "a"}}, false},
		{"each value of a required label", []Filter{labelled}, []Lookup{{Label: "tier", Value: "x"}, {Label: "tier", Value: "y"}}, false},
		{"names and labels together", []Filter{named, labelled}, []Lookup{{Name: "a"}, {Label: "tier", Value: "x"}, {Label: "tier", Value: "y"}}, false},
		{"a trigger on every object lists them all", []Filter{named, everything, labelled}, nil, true},
		{"a trigger of another target does not count", []Filter{otherTarget, named}, []Lookup{{Name: "a"}}, false},
		{"no trigger of the target", []Filter{otherTarget}, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, all := Lookups(tc.filters, cms)
			if all != tc.all {
				t.Errorf("all = %v, want %v", all, tc.all)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("lookups (-want +got):\n%s", d)
			}
		})
	}
}

// An object deleted while nobody watched is described by what its onDelete
// triggers agree on.
func TestDeletedFallback(t *testing.T) {
	cms := Target{GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Kind: "ConfigMap", Namespace: "ns"}
	otherNS := cms
	otherNS.Namespace = "other"
	deploys := Target{GVR: schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, Kind: "Deployment", Namespace: "ns"}
	filter := func(target Target, tr kubeciv1.Trigger) Filter { return mustFilter(t, target, tr) }
	cases := []struct {
		name    string
		filters []Filter
		want    Object
	}{
		{"no onDelete trigger", []Filter{filter(cms, kubeciv1.Trigger{Name: "a", OnAddOrUpdate: true})}, Object{}},
		{"one onDelete trigger names the object",
			[]Filter{filter(cms, kubeciv1.Trigger{Name: "a", OnDelete: true})},
			Object{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "a", OnDelete: true}},
		{"triggers without onDelete do not count",
			[]Filter{filter(deploys, kubeciv1.Trigger{OnAddOrUpdate: true}), filter(cms, kubeciv1.Trigger{Name: "a", OnDelete: true})},
			Object{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "a", OnDelete: true}},
		{"two names agree on the kind and namespace",
			[]Filter{filter(cms, kubeciv1.Trigger{Name: "a", OnDelete: true}), filter(cms, kubeciv1.Trigger{Name: "b", OnDelete: true})},
			Object{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", OnDelete: true}},
		{"two namespaces agree on the kind",
			[]Filter{filter(cms, kubeciv1.Trigger{Name: "a", OnDelete: true}), filter(otherNS, kubeciv1.Trigger{Name: "a", OnDelete: true})},
			Object{APIVersion: "v1", Kind: "ConfigMap", Name: "a", OnDelete: true}},
		{"two kinds agree on the namespace and name",
			[]Filter{filter(cms, kubeciv1.Trigger{Name: "a", OnDelete: true}), filter(deploys, kubeciv1.Trigger{Name: "a", OnDelete: true})},
			Object{Namespace: "ns", Name: "a", OnDelete: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, DeletedFallback(tc.filters)); d != "" {
				t.Errorf("DeletedFallback (-want +got):\n%s", d)
			}
		})
	}
}

// mustFilter is the filter of trigger tr on target.
func mustFilter(t *testing.T, target Target, tr kubeciv1.Trigger) Filter {
	t.Helper()
	f, err := NewFilter(0, &tr, target)
	if err != nil {
		t.Fatal(err)
	}
	return f
}
