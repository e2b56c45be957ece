package release

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/google/go-containerregistry/pkg/name"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// DefaultRepository is where Kube CI's releases publish its image.
const DefaultRepository = "ghcr.io/kubeci/kubeci"

// semver matches the versions Helm accepts for a chart, without the "v".
var semver = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// ReleaseChart copies the chart at src to dst with a release's version
// (chartVersion, SemVer without "v"; anything else becomes
// 0.0.0-<version>), appVersion, and image (repository and digest) as its
// defaults, so that `helm install` of dst installs what install.yaml does.
func ReleaseChart(src, dst, chartVersion, appVersion string, ref name.Digest) error {
	if !semver.MatchString(chartVersion) {
		chartVersion = "0.0.0-" + regexp.MustCompile(`[^0-9A-Za-z.-]`).ReplaceAllString(chartVersion, "-")
	}
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch rel {
		case "Chart.yaml":
			data, err = setFields(data, nil, map[string]string{"version": chartVersion, "appVersion": appVersion})
		case "values.yaml":
			data, err = setFields(data, []string{"image"}, map[string]string{"repository": ref.Context().Name(), "digest": ref.DigestStr()})
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		return fmt.Errorf("writing the chart %s: %w", dst, err)
	}
	return nil
}

// setFields sets string fields of the mapping at path in a YAML document,
// keeping its comments.
func setFields(data []byte, path []string, fields map[string]string) ([]byte, error) {
	node, err := kyaml.Parse(string(data))
	if err != nil {
		return nil, err
	}
	at, err := node.Pipe(kyaml.Lookup(path...))
	if err != nil || at == nil {
		return nil, fmt.Errorf("no %v mapping: %v", path, err)
	}
	for k, v := range fields {
		if err := at.PipeE(kyaml.SetField(k, kyaml.NewStringRNode(v))); err != nil {
			return nil, err
		}
	}
	s, err := node.String()
	return []byte(s), err
}
