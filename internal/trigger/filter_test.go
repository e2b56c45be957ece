package trigger

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

func TestFilterMatches(t *testing.T) {
	target := Target{GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Kind: "ConfigMap", Namespace: "ns"}
	sel := &metav1.LabelSelector{
		MatchLabels:      map[string]string{"app": "web"},
		MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}},
	}
	o := func(ns, name string, l map[string]string) *metav1.ObjectMeta {
		return &metav1.ObjectMeta{Namespace: ns, Name: name, Labels: l}
	}
	web := map[string]string{"app": "web", "tier": "a"}
	cases := []struct {
		name    string
		trigger kubeciv1.Trigger
		obj     *metav1.ObjectMeta
		want    bool
	}{
		{"everything in the namespace", kubeciv1.Trigger{}, o("ns", "x", nil), true},
		{"other namespace", kubeciv1.Trigger{}, o("other", "x", nil), false},
		{"exact name", kubeciv1.Trigger{Name: "my-config"}, o("ns", "my-config", nil), true},
		{"a longer name is not a match", kubeciv1.Trigger{Name: "my-config"}, o("ns", "my-config-2", nil), false},
		{"a prefix is not a match", kubeciv1.Trigger{Name: "my-config"}, o("ns", "my-conf", nil), false},
		{"selector matches", kubeciv1.Trigger{Selector: sel}, o("ns", "x", web), true},
		{"selector expression rejects", kubeciv1.Trigger{Selector: sel}, o("ns", "x", map[string]string{"app": "web", "tier": "c"}), false},
		{"selector labels reject", kubeciv1.Trigger{Selector: sel}, o("ns", "x", map[string]string{"tier": "a"}), false},
		{"empty selector matches all", kubeciv1.Trigger{Selector: &metav1.LabelSelector{}}, o("ns", "x", nil), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewFilter(0, &tc.trigger, target)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Matches(tc.obj); got != tc.want {
				t.Errorf("Matches = %v, want %v", got, tc.want)
			}
			// The same object as the informers hold it, unstructured.
			u := &unstructured.Unstructured{Object: map[string]any{}}
			u.SetNamespace(tc.obj.Namespace)
			u.SetName(tc.obj.Name)
			u.SetLabels(tc.obj.Labels)
			if got := f.Matches(u); got != tc.want {
				t.Errorf("Matches(unstructured) = %v, want %v", got, tc.want)
			}
		})
	}

	cluster := target
	cluster.Namespace = ""
	f, _ := NewFilter(0, &kubeciv1.Trigger{}, cluster)
	if !f.Matches(o("", "node-1", nil)) {
		t.Error("a cluster-scoped target must match objects without a namespace")
	}
}

func TestMatchObjectORsMatchingTriggers(t *testing.T) {
	target := Target{GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Namespace: "ns"}
	other := Target{GVR: schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, Namespace: "ns"}
	a, _ := NewFilter(0, &kubeciv1.Trigger{Name: "a", OnAddOrUpdate: true}, target)
	b, _ := NewFilter(1, &kubeciv1.Trigger{OnDelete: true}, target)
	c, _ := NewFilter(2, &kubeciv1.Trigger{OnAddOrUpdate: true, OnDelete: true}, other)
	filters := []Filter{a, b, c}
	m, ok := MatchObject(filters, target, &metav1.ObjectMeta{Namespace: "ns", Name: "a"})
	add, del := m.OnAddOrUpdate, m.OnDelete
	if !ok || !add || !del {
		t.Errorf("object a matches both configmap triggers: got add=%v del=%v matched=%v", add, del, ok)
	}
	m, ok = MatchObject(filters, target, &metav1.ObjectMeta{Namespace: "ns", Name: "z"})
	add, del = m.OnAddOrUpdate, m.OnDelete
	if !ok || add || !del {
		t.Errorf("object z matches only the onDelete trigger: got add=%v del=%v matched=%v", add, del, ok)
	}
}

func TestFilterRequiredLabel(t *testing.T) {
	target := Target{GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Namespace: "ns"}
	expr := func(op metav1.LabelSelectorOperator, values ...string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: op, Values: values}}}
	}
	cases := []struct {
		name     string
		selector *metav1.LabelSelector
		label    string
		values   []string
		ok       bool
	}{
		{name: "no selector: every object may match", selector: nil},
		{name: "empty selector: every object may match", selector: &metav1.LabelSelector{}},
		{name: "matchLabels", selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			label: "app", values: []string{"web"}, ok: true},
		{name: "In", selector: expr(metav1.LabelSelectorOpIn, "b", "a"), label: "tier", values: []string{"a", "b"}, ok: true},
		{name: "NotIn requires no value", selector: expr(metav1.LabelSelectorOpNotIn, "a")},
		{name: "Exists requires no value", selector: expr(metav1.LabelSelectorOpExists)},
		{name: "DoesNotExist requires no value", selector: expr(metav1.LabelSelectorOpDoesNotExist)},
		{name: "Exists and matchLabels: the label of matchLabels",
			selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"},
				MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpExists}}},
			label: "app", values: []string{"web"}, ok: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewFilter(0, &kubeciv1.Trigger{Selector: tc.selector}, target)
			if err != nil {
				t.Fatal(err)
			}
			label, values, ok := f.RequiredLabel()
			if label != tc.label || ok != tc.ok || !slices.Equal(values, tc.values) {
				t.Errorf("RequiredLabel() = %q, %v, %v; want %q, %v, %v", label, values, ok, tc.label, tc.values, tc.ok)
			}
			// Every object the filter matches carries the label with one of
			// the values.
			for _, v := range []string{"a", "b", "web", "other"} {
				for _, name := range []string{"app", "tier"} {
					obj := &metav1.ObjectMeta{Namespace: "ns", Name: "x", Labels: map[string]string{name: v}}
					if ok && f.Matches(obj) && (name != label || !slices.Contains(values, v)) {
						t.Errorf("the filter matches %v, which lacks the required label", obj.Labels)
					}
				}
			}
		})
	}
}

// Matching an unstructured object, as every informer event is matched against
// every Workflow's filters, does not copy its labels.
func TestFilterMatchesUnstructuredWithoutCopies(t *testing.T) {
	target := Target{GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Kind: "ConfigMap", Namespace: "ns"}
	f, err := NewFilter(0, &kubeciv1.Trigger{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"shard": "7"}}}, target)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetNamespace("ns")
	u.SetLabels(map[string]string{"shard": "8", "app": "web", "tier": "a"})
	if allocs := testing.AllocsPerRun(100, func() { f.Matches(u) }); allocs > 0 {
		t.Errorf("Matches allocates %.0f times per call, want 0", allocs)
	}
}
