package release

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/api/resource"
)

// Files of the Helm chart that Chart generates, relative to the chart.
const (
	// ChartCRDs is the folder of the CRDs, which Helm installs before the
	// templates and never templates.
	ChartCRDs = "crds"
	// ChartManifests is the template holding every other object of
	// config/default but the Namespace and the Deployment, which the chart
	// templates by hand from its values.
	ChartManifests = "templates/manifests.yaml"
)

// handWritten are the kinds the chart templates itself rather than copies.
var handWritten = map[string]bool{"Namespace": true, "Deployment": true}

// chartHeader opens every file Chart writes.
const chartHeader = "# Generated from config/ by `make manifests` (internal/release.Chart); do not edit.\n"

// Chart writes the parts of the Helm chart at chartDir that are config/'s
// manifests as they are: the CRDs into crds/, and the RBAC, ServiceAccount
// and admission policy into templates/manifests.yaml, with the namespace
// kubeci-system replaced by the release's. The chart's test checks that the
// whole chart renders the same objects as Render.
func Chart(configDir, chartDir string) error {
	resources, err := build(configDir, ImageName+":latest")
	if err != nil {
		return err
	}
	crdDir := filepath.Join(chartDir, ChartCRDs)
	if err := os.RemoveAll(crdDir); err != nil {
		return err
	}
	if err := os.MkdirAll(crdDir, 0o755); err != nil {
		return err
	}
	var manifests bytes.Buffer
	manifests.WriteString(chartHeader)
	for _, r := range resources.Resources() {
		data, err := r.AsYAML()
		if err != nil {
			return err
		}
		switch {
		case r.GetKind() == "CustomResourceDefinition":
			file := filepath.Join(crdDir, r.GetName()+".yaml")
			if err := os.WriteFile(file, append([]byte(chartHeader), data...), 0o644); err != nil {
				return err
			}
		case handWritten[r.GetKind()]:
		default:
			if err := templatable(r, data); err != nil {
				return err
			}
			manifests.WriteString("---\n")
			manifests.WriteString(strings.ReplaceAll(string(data), Namespace, "{{ .Release.Namespace }}"))
		}
	}
	return os.WriteFile(filepath.Join(chartDir, ChartManifests), manifests.Bytes(), 0o644)
}

// templatable fails when an object holds what Helm would read as a template.
func templatable(r *resource.Resource, data []byte) error {
	if bytes.Contains(data, []byte("{{")) {
		return fmt.Errorf("%s %s holds \"{{\", which Helm would read as a template", r.GetKind(), r.GetName())
	}
	return nil
}
