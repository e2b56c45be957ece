// Package manifest reads Workflows from YAML or JSON files holding one or more
// documents, and says clearly what is wrong with a document that is not one.
package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	kubeciv1 "github.com/kubeci/kubeci/api/v1alpha1"
)

// Document is one document of a file: a Workflow, or the reason it is not one.
type Document struct {
	// Source is the file name ("-" for standard input).
	Source string
	// Index is the document's position in the file, from 1.
	Index int
	// Workflow is the decoded Workflow when Err is nil.
	Workflow *kubeciv1.Workflow
	// Err says why the document is not a usable Workflow.
	Err error
}

// Label names the document in messages: "FILE: workflow NAME", or
// "FILE: document N" when it has no name.
func (d Document) Label() string {
	if d.Workflow != nil && d.Workflow.Name != "" {
		return fmt.Sprintf("%s: workflow %s", d.Source, d.Workflow.Name)
	}
	return fmt.Sprintf("%s: document %d", d.Source, d.Index)
}

// LoadFile reads every document of path; "-" reads stdin. It fails only when the
// file cannot be read; a bad document is reported in its Document.Err.
func LoadFile(path string, stdin io.Reader) ([]Document, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	return Load(path, r)
}

// Load reads every document of r, naming them after source.
func Load(source string, r io.Reader) ([]Document, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var docs []Document
	for index := 1; ; {
		raw, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return docs, fmt.Errorf("%s: %w", source, err)
		}
		if isEmpty(raw) {
			continue
		}
		wf, err := decode(raw)
		docs = append(docs, Document{Source: source, Index: index, Workflow: wf, Err: err})
		index++
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: no documents found", source)
	}
	return docs, nil
}

// decode turns one document into a Workflow, refusing other kinds and unknown
// fields (a misspelt field would otherwise be silently dropped).
func decode(raw []byte) (*kubeciv1.Workflow, error) {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(raw, &head); err != nil {
		if perr := plainError(err); perr != err {
			return nil, perr
		}
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	want := kubeciv1.GroupVersion.String()
	if head.Kind != "Workflow" || head.APIVersion != want {
		if head.Kind == "" {
			return nil, fmt.Errorf("has no kind: not a %s Workflow", want)
		}
		return nil, fmt.Errorf("is a %s %s, not a %s Workflow", head.APIVersion, head.Kind, want)
	}
	var wf kubeciv1.Workflow
	_, _, err := strictDecoder.Decode(raw, nil, &wf)
	if err != nil {
		return &wf, fmt.Errorf("cannot be read as a Workflow: %w", plainError(err))
	}
	return &wf, nil
}

// strictDecoder decodes YAML like the API server does with field validation
// Strict: unknown and duplicate fields are errors naming their path.
var strictDecoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	utilruntime.Must(kubeciv1.AddToScheme(scheme))
	return kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
}()

func isEmpty(raw []byte) bool {
	for _, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' && !bytes.Equal(line, []byte("---")) {
			return false
		}
	}
	return true
}
