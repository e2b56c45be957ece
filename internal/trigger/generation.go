package trigger

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// hashPrefix marks a resource generation that is a content hash.
const hashPrefix = "h:"

// ResourceGeneration is the version of an object's content that triggers act on.
// For kinds that keep metadata.generation (Deployments, custom resources with a
// status subresource) it is that number in decimal, so status-only updates do
// not count. For the others (ConfigMaps, Secrets) it is "h:" and 16 hex digits
// of a SHA-256 over the object without metadata and status: resourceVersion,
// managedFields, labels and annotations do not count. The hash is one-way, so no
// object data (a Secret's, say) is revealed by it.
func ResourceGeneration(obj *unstructured.Unstructured) (string, error) {
	if g := obj.GetGeneration(); g > 0 {
		return strconv.FormatInt(g, 10), nil
	}
	content := make(map[string]any, len(obj.Object))
	for k, v := range obj.Object {
		switch k {
		case "metadata", "status", "apiVersion", "kind":
		default:
			content[k] = v
		}
	}
	data, err := json.Marshal(content) // map keys are sorted: the encoding is canonical
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hashPrefix + hex.EncodeToString(sum[:8]), nil
}
