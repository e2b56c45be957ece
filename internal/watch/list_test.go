package watch

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/kubeci/kubeci/internal/testenv"
)

// decodeList reads what the dynamic client would, item by item.
func TestDecodeList(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     *unstructured.UnstructuredList
		err      string
	}{
		{
			name: "items of a built-in kind take the list's apiVersion and kind; managed fields are dropped; numbers stay integers",
			in: `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"c"},"items":[
				{"metadata":{"name":"a","managedFields":[{"manager":"x"}]},"data":{"k":"v"}},
				{"metadata":{"name":"b","generation":3},"spec":{"n":1.5,"m":7}}]}`,
			want: &unstructured.UnstructuredList{
				Object: map[string]any{"kind": "ConfigMapList", "apiVersion": "v1",
					"metadata": map[string]any{"resourceVersion": "42", "continue": "c"}},
				Items: []unstructured.Unstructured{
					{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
						"metadata": map[string]any{"name": "a"}, "data": map[string]any{"k": "v"}}},
					{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
						"metadata": map[string]any{"name": "b", "generation": int64(3)}, "spec": map[string]any{"n": 1.5, "m": int64(7)}}},
				},
			},
		},
		{
			name: "items that say their kind keep it; items may come first",
			in:   `{"items":[{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}}],"kind":"WidgetList","apiVersion":"example.com/v1","metadata":{}}`,
			want: &unstructured.UnstructuredList{
				Object: map[string]any{"kind": "WidgetList", "apiVersion": "example.com/v1", "metadata": map[string]any{}},
				Items: []unstructured.Unstructured{{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget",
					"metadata": map[string]any{"name": "w"}}}},
			},
		},
		{
			name: "no items",
			in:   `{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":null}`,
			want: &unstructured.UnstructuredList{
				Object: map[string]any{"kind": "ConfigMapList", "apiVersion": "v1", "metadata": map[string]any{"resourceVersion": "1"}},
			},
		},
		{name: "not an object", in: `[]`, err: `want "{", got [`},
		{name: "items not an array", in: `{"items":{}}`, err: `field "items": want an array`},
		{name: "an item not an object", in: `{"items":[{"metadata":{}},3]}`, err: "item 1: want an object"},
		{name: "cut short", in: `{"kind":"ConfigMapList","items":[{"metadata":{}}`, err: "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeList(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(got, tc.want) {
				t.Errorf("got\n%#v\nwant\n%#v", got, tc.want)
			}
		})
	}
}

// listStream returns what the dynamic client's List returns, also page by
// page, and reports the API server's refusals as the same errors.
func TestListStreamMatchesDynamicList(t *testing.T) {
	env := testenv.Get(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	for i := range 5 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("cm-%d", i),
			Labels: map[string]string{"i": fmt.Sprint(i)}}, Data: map[string]string{"k": fmt.Sprint(i)}}
		if err := env.Client.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	httpClient, err := rest.HTTPClientFor(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rest.UnversionedRESTClientForConfigAndClient(dynamic.ConfigFor(env.Config), httpClient)
	if err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.New(rc)
	cms := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

	for _, opts := range []metav1.ListOptions{{}, {LabelSelector: "i in (1,3)"}, {Limit: 2}} {
		want, err := dyn.Resource(cms).Namespace(ns).List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want.Items {
			want.Items[i].SetManagedFields(nil)
		}
		got, err := listStream(ctx, rc, cms, ns, opts)
		if err != nil {
			t.Fatal(err)
		}
		// Two lists differ in their resourceVersion and continue token.
		for _, l := range []*unstructured.UnstructuredList{want, got} {
			l.SetResourceVersion("")
			l.SetContinue("")
		}
		if !equality.Semantic.DeepEqual(got, want) {
			t.Errorf("options %+v: listStream returned\n%#v\nthe dynamic client\n%#v", opts, got, want)
		}
		if len(got.Items) == 0 {
			t.Errorf("options %+v: nothing listed", opts)
		}
	}

	_, err = listStream(ctx, rc, cms, ns, metav1.ListOptions{LabelSelector: "a b c"})
	_, wantErr := dyn.Resource(cms).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: "a b c"})
	if err == nil || wantErr == nil || err.Error() != wantErr.Error() {
		t.Errorf("a refused list: error %v, the dynamic client's %v", err, wantErr)
	}
}
