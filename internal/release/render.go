package release

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// ImageName is the name config/ gives Kube CI's image, which Render replaces.
const ImageName = "kubeci"

// Namespace is where config/default installs Kube CI.
const Namespace = "kubeci-system"

// managerKustomization is the kustomization, under config/, that sets the
// operator's image (and copies it for the cleanup pods).
const managerKustomization = "manager/kustomization.yaml"

// Render builds config/default from the config folder at configDir, with
// Kube CI's image set to image (name@sha256:..., or name:tag), as one YAML
// stream with header as its first comment lines. The image is set where
// config/manager sets it, as `kustomize edit set image` would there, so
// config/manager's replacement gives it to the cleanup pods too.
func Render(configDir, image, header string) ([]byte, error) {
	resources, err := build(configDir, image)
	if err != nil {
		return nil, err
	}
	out, err := resources.AsYaml()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, line := range bytes.Split(bytes.TrimSpace([]byte(header)), []byte("\n")) {
		b.WriteString("# ")
		b.Write(line)
		b.WriteString("\n")
	}
	b.Write(out)
	return b.Bytes(), nil
}

// build runs kustomize on config/default, in memory, with the image set.
func build(configDir, image string) (resmap.ResMap, error) {
	img, err := imageOverride(image)
	if err != nil {
		return nil, err
	}
	mem := filesys.MakeFsInMemory()
	const root = "/config"
	err = filepath.WalkDir(configDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(configDir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if filepath.ToSlash(rel) == managerKustomization {
			if data, err = setImage(data, img); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		return mem.WriteFile(path.Join(root, filepath.ToSlash(rel)), data)
	})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", configDir, err)
	}
	opts := krusty.MakeDefaultOptions()
	// Namespace and CRDs first, as `kubectl apply -k` orders them: a file
	// applied with `kubectl apply -f` is applied in its order.
	opts.Reorder = krusty.ReorderOptionLegacy
	resources, err := krusty.MakeKustomizer(opts).Run(mem, path.Join(root, "default"))
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", filepath.Join(configDir, "default"), err)
	}
	return resources, nil
}

// imageOverride turns an image reference into kustomize's image setting.
func imageOverride(image string) (types.Image, error) {
	ref, err := name.ParseReference(image)
	if err != nil {
		return types.Image{}, fmt.Errorf("image %q: %w (want NAME@sha256:DIGEST or NAME:TAG)", image, err)
	}
	// The name as written, without a default registry added.
	img := types.Image{Name: ImageName}
	switch r := ref.(type) {
	case name.Digest:
		img.NewName, _, _ = strings.Cut(image, "@")
		img.Digest = r.DigestStr()
	case name.Tag:
		img.NewName = strings.TrimSuffix(image, ":"+r.TagStr())
		img.NewTag = r.TagStr()
	}
	return img, nil
}

// setImage sets the image named ImageName in a kustomization file.
func setImage(data []byte, img types.Image) ([]byte, error) {
	var k types.Kustomization
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		return nil, err
	}
	found := false
	for i := range k.Images {
		if k.Images[i].Name == img.Name {
			k.Images[i], found = img, true
		}
	}
	if !found {
		return nil, fmt.Errorf("no image %q to set", img.Name)
	}
	return yaml.Marshal(k)
}
