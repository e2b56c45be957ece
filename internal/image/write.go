package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// containerdImageName is the annotation of an OCI index entry that
// `ctr images import` takes the image's full name from.
const containerdImageName = "io.containerd.image.name"

// ociRefName is the OCI annotation of an index entry naming its tag.
const ociRefName = "org.opencontainers.image.ref.name"

// WriteArchive writes the image as a docker-archive tarball (manifest.json,
// the configuration and the layers) that `docker load` and `ctr images
// import` read.
func (i *Image) WriteArchive(file string) error {
	tag, err := name.NewTag(i.Name, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("image name %q: %w (use a full name such as registry.example.com/kubeci:v0.1.0)", i.Name, err)
	}
	if err := tarball.WriteToFile(file, tag, i.Image); err != nil {
		return fmt.Errorf("writing image %s to %s: %w", i.Name, file, err)
	}
	return nil
}

// WriteOCI writes the image as a tarball of an OCI image layout (oci-layout,
// index.json, blobs/sha256/...), which keeps its manifest, so its digest, as
// it is: `ctr images import`, `skopeo copy oci-archive:FILE` and `crane push`
// read it. The index lists the manifest once under each of names (the image's
// own name when there are none), with the annotations containerd and OCI
// tools take a name from; a name may be a reference by digest
// (name@sha256:...). The tarball's bytes depend only on the image and the
// names.
func (i *Image) WriteOCI(file string, names ...string) error {
	if len(names) == 0 {
		names = []string{i.Name}
	}
	blobs, index, err := i.ociBlobs(names)
	if err != nil {
		return fmt.Errorf("image %s: %w", i.Name, err)
	}
	files := map[string][]byte{
		"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`),
		"index.json": index,
	}
	for h, data := range blobs {
		files["blobs/"+h.Algorithm+"/"+h.Hex] = data
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := writeTar(tmp, files); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// ociBlobs returns the image's blobs by digest and an index.json listing its
// manifest under each name.
func (i *Image) ociBlobs(names []string) (map[v1.Hash][]byte, []byte, error) {
	blobs := map[v1.Hash][]byte{}
	manifest, err := i.Image.RawManifest()
	if err != nil {
		return nil, nil, err
	}
	digest, err := i.Image.Digest()
	if err != nil {
		return nil, nil, err
	}
	blobs[digest] = manifest
	config, err := i.Image.RawConfigFile()
	if err != nil {
		return nil, nil, err
	}
	configName, err := i.Image.ConfigName()
	if err != nil {
		return nil, nil, err
	}
	blobs[configName] = config
	layers, err := i.Image.Layers()
	if err != nil {
		return nil, nil, err
	}
	for _, l := range layers {
		h, err := l.Digest()
		if err != nil {
			return nil, nil, err
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, nil, err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, nil, err
		}
		blobs[h] = data
	}
	mediaType, err := i.Image.MediaType()
	if err != nil {
		return nil, nil, err
	}
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for _, n := range names {
		ref, err := name.ParseReference(n, name.StrictValidation)
		if err != nil {
			return nil, nil, fmt.Errorf("image name %q: %w", n, err)
		}
		annotations := map[string]string{containerdImageName: ref.Name()}
		if tag, ok := ref.(name.Tag); ok {
			annotations[ociRefName] = tag.TagStr()
		}
		index.Manifests = append(index.Manifests, v1.Descriptor{
			MediaType: mediaType, Digest: digest, Size: int64(len(manifest)), Annotations: annotations,
		})
	}
	data, err := json.Marshal(index)
	return blobs, data, err
}

// writeTar writes files as a tar archive, sorted, with zero times, owned by root.
func writeTar(w io.Writer, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tar.NewWriter(w)
	dirs := map[string]bool{}
	for _, n := range names {
		for _, d := range parentDirs(n) {
			if dirs[d] {
				continue
			}
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Name: d + "/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}); err != nil {
				return err
			}
		}
		h := &tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(files[n])), ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, bytes.NewReader(files[n])); err != nil {
			return err
		}
	}
	return tw.Close()
}

// parentDirs lists the folders above a slash-separated name, outermost first.
func parentDirs(n string) []string {
	var dirs []string
	for d := filepath.Dir(n); d != "."; d = filepath.Dir(d) {
		dirs = append([]string{d}, dirs...)
	}
	return dirs
}

// Push writes the image to the registry of ref (a tag), with the
// credentials of the Docker configuration (~/.docker/config.json,
// $DOCKER_CONFIG) and its credential helpers, and returns the reference by
// digest it was pushed as.
func (i *Image) Push(ctx context.Context, ref string) (string, error) {
	tag, err := name.NewTag(ref, name.StrictValidation)
	if err != nil {
		return "", fmt.Errorf("image name %q: %w (use a full name such as registry.example.com/kubeci:v0.1.0)", ref, err)
	}
	if err := remote.Write(tag, i.Image, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)); err != nil {
		return "", fmt.Errorf("pushing %s: %w", ref, err)
	}
	digest, err := i.Digest()
	if err != nil {
		return "", err
	}
	return tag.Context().Name() + "@" + digest, nil
}
