package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	watchapi "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// listWatch lists and watches k's objects like the dynamic informer does,
// except that a list is decoded as it streams in (listStream). A watch list
// (the WatchListClient feature: the initial objects as watch events) is still
// tried first where the API server can serve it.
func (r *Registry) listWatch(k Key) cache.ListerWatcher {
	res := r.client.Resource(k.GVR).Namespace(k.Namespace)
	// Only the context-taking functions: client-go's ListWatch falls back to
	// them from the older ones.
	return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return listStream(ctx, r.rest, k.GVR, k.Namespace, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watchapi.Interface, error) {
			return res.Watch(ctx, opts)
		},
	}, r.client)
}

// listStream lists the objects of gvr in namespace ("" for all or for a
// cluster-scoped resource) as the dynamic client's List does, but decodes the
// response item by item as it arrives, and drops each item's managed fields
// at once. The dynamic client reads the whole response into memory and
// decodes it twice (once as a whole, once item by item): for the first list
// of 10,000 ConfigMaps that holds some 70 MB at once, the operator's peak.
// Here the response is never held whole, and what each item's decoding
// allocates is garbage as soon as the next one starts.
func listStream(ctx context.Context, rc rest.Interface, gvr schema.GroupVersionResource, namespace string, opts metav1.ListOptions) (*unstructured.UnstructuredList, error) {
	body, err := rc.Get().
		AbsPath(resourcePath(gvr, namespace)...).
		SpecificallyVersionedParams(&opts, scheme.ParameterCodec, schema.GroupVersion{Version: "v1"}).
		SetHeader("Accept", "application/json").
		Stream(ctx)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	list, err := decodeList(body)
	if err != nil {
		return nil, fmt.Errorf("decoding the list of %s: %w", gvr.GroupResource(), err)
	}
	return list, nil
}

// resourcePath is the URL path of gvr's collection in namespace.
func resourcePath(gvr schema.GroupVersionResource, namespace string) []string {
	p := []string{"api"}
	if gvr.Group != "" {
		p = []string{"apis", gvr.Group}
	}
	p = append(p, gvr.Version)
	if namespace != "" {
		p = append(p, "namespaces", namespace)
	}
	return append(p, gvr.Resource)
}

// decodeList reads a list response (a JSON object whose "items" is an array of
// objects) from r one item at a time. Items without apiVersion and kind (the
// API server leaves them out of a built-in kind's list) take the list's, as
// the dynamic client does; managed fields are dropped, as the cache keeps none.
func decodeList(r io.Reader) (*unstructured.UnstructuredList, error) {
	dec := json.NewDecoder(r)
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	header := map[string]json.RawMessage{}
	var items []unstructured.Unstructured
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("want a field name, got %v", tok)
		}
		if key != "items" {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, fmt.Errorf("field %q: %w", key, err)
			}
			header[key] = raw
			continue
		}
		if items, err = decodeItems(dec); err != nil {
			return nil, err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return nil, err
	}
	// The list without its items, decoded as the dynamic client would.
	data, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	list := &unstructured.UnstructuredList{Object: map[string]any{}}
	if err := utiljson.Unmarshal(data, &list.Object); err != nil {
		return nil, err
	}
	apiVersion, itemKind := list.GetAPIVersion(), strings.TrimSuffix(list.GetKind(), "List")
	for i := range items {
		if items[i].GetKind() == "" && items[i].GetAPIVersion() == "" {
			items[i].SetKind(itemKind)
			items[i].SetAPIVersion(apiVersion)
		}
	}
	list.Items = items
	return list, nil
}

// decodeItems reads the array of items, one at a time.
func decodeItems(dec *json.Decoder) ([]unstructured.Unstructured, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok == nil { // "items": null
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("field \"items\": want an array, got %v", tok)
	}
	var items []unstructured.Unstructured
	var raw json.RawMessage
	for dec.More() {
		raw = raw[:0]
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("item %d: %w", len(items), err)
		}
		if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			return nil, fmt.Errorf("item %d: want an object", len(items))
		}
		// Decoded as any rather than into a map: the objects decoded so
		// hold some 230 bytes less each.
		var v any
		if err := utiljson.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("item %d: %w", len(items), err)
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("item %d: want an object", len(items))
		}
		u := unstructured.Unstructured{Object: obj}
		u.SetManagedFields(nil)
		items = append(items, u)
	}
	return items, expectDelim(dec, ']')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}
