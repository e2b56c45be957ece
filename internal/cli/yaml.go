package cli

import (
	"bytes"
	"encoding/json"

	yamlv3 "go.yaml.in/yaml/v3"
)

// marshalYAML renders obj as YAML with its fields in the order its Go type
// declares them (name, image, commands... rather than alphabetical), which
// reads like the design doc.
func marshalYAML(obj any) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var node yamlv3.Node
	if err := yamlv3.Unmarshal(data, &node); err != nil {
		return nil, err
	}
	plainStyle(&node)
	var buf bytes.Buffer
	enc := yamlv3.NewEncoder(&buf)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(&node); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

// plainStyle drops the JSON quoting and flow style the node was parsed with, so
// the encoder quotes only what YAML needs quoted.
func plainStyle(n *yamlv3.Node) {
	n.Style = 0
	for _, c := range n.Content {
		plainStyle(c)
	}
}
