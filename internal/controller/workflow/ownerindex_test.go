package workflow

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
	"github.com/kubeci/kubeci/internal/trigger"
)

// An event concerns the Workflows whose filters require a label the object
// carries (before or after the change), and every Workflow with a filter that
// requires none.
func TestOwnerIndex(t *testing.T) {
	target := trigger.Target{GVR: schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, Kind: "ConfigMap", Namespace: "ns"}
	key := keyOf(target)
	filter := func(tr kubeciv1.Trigger) trigger.Filter {
		f, err := trigger.NewFilter(0, &tr, target)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	sel := func(l map[string]string, exprs ...metav1.LabelSelectorRequirement) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: l, MatchExpressions: exprs}
	}
	owners := map[string][]trigger.Filter{
		"shard-1":  {filter(kubeciv1.Trigger{Selector: sel(map[string]string{"shard": "1"})})},
		"shard-2":  {filter(kubeciv1.Trigger{Selector: sel(map[string]string{"shard": "2", "app": "web"})})},
		"tier-a-b": {filter(kubeciv1.Trigger{Selector: sel(nil, metav1.LabelSelectorRequirement{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}})})},
		"two":      {filter(kubeciv1.Trigger{Selector: sel(map[string]string{"shard": "1"})}), filter(kubeciv1.Trigger{Selector: sel(map[string]string{"tier": "c"})})},
		"named":    {filter(kubeciv1.Trigger{Name: "cm-x"})},
		"notin": {filter(kubeciv1.Trigger{Selector: sel(nil, metav1.LabelSelectorRequirement{Key: "tier", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"a"}})}),
			filter(kubeciv1.Trigger{Selector: sel(map[string]string{"shard": "9"})})},
	}
	x := newOwnerIndex()
	for name, fs := range owners {
		x.set(key, types.NamespacedName{Namespace: "ns", Name: name}, fs)
	}
	obj := func(l map[string]string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{}}
		u.SetLabels(l)
		return u
	}
	names := func(m map[types.NamespacedName]bool) []string {
		var out []string
		for o := range m {
			out = append(out, o.Name)
		}
		slices.Sort(out)
		return out
	}
	cases := []struct {
		name     string
		old, new *unstructured.Unstructured
		want     []string
	}{
		{"no labels", nil, obj(nil), []string{"named", "notin"}},
		{"shard 1", nil, obj(map[string]string{"shard": "1"}), []string{"named", "notin", "shard-1", "two"}},
		{"shard 2 without app=web, which its selector requires too", nil, obj(map[string]string{"shard": "2"}), []string{"named", "notin"}},
		{"shard 2 and app=web", nil, obj(map[string]string{"shard": "2", "app": "web"}), []string{"named", "notin", "shard-2"}},
		{"an In value", obj(map[string]string{"tier": "b"}), nil, []string{"named", "notin", "tier-a-b"}},
		{"the old state's labels count", obj(map[string]string{"tier": "c"}), obj(map[string]string{"shard": "1"}), []string{"named", "notin", "shard-1", "two"}},
	}
	for _, tc := range cases {
		if got := names(x.owners(key, tc.old, tc.new)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: owners %v, want %v", tc.name, got, tc.want)
		}
	}
	for name, fs := range owners {
		x.drop(key, types.NamespacedName{Namespace: "ns", Name: name}, fs)
	}
	if len(x.byLabel) != 0 || len(x.always) != 0 {
		t.Errorf("dropping every owner must empty the index, left %v %v", x.byLabel, x.always)
	}
}
