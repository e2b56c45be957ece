package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Image is an image unpacked in the image cache: its root file system and its
// configuration, ready to be the lower layer of a step's root.
type Image struct {
	// Ref is the reference the image was pulled by.
	Ref string
	// Digest is the manifest digest of the image for this machine's platform.
	Digest string
	// Rootfs is the unpacked root file system, shared by every step that runs
	// the image: it must never be written to.
	Rootfs string
	// Config is the image's configuration (entrypoint, command, env, user,
	// working directory).
	Config v1.Config
}

// ImageCache pulls images and keeps them unpacked on disk, one directory per
// manifest digest: Dir/sha256-HEX/rootfs and Dir/sha256-HEX/config.json.
type ImageCache struct {
	// Dir holds the unpacked images (see DefaultImageCacheDir).
	Dir string
	// Keychain gives registry credentials; nil means authn.DefaultKeychain
	// (the docker config and its credential helpers).
	Keychain authn.Keychain
}

// DefaultImageCacheDir is $XDG_CACHE_HOME/kubeci/images, else
// ~/.cache/kubeci/images.
func DefaultImageCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cannot tell where to cache images (%w): set XDG_CACHE_HOME", err)
	}
	return filepath.Join(dir, "kubeci", "images"), nil
}

// PullProgress hears how a pull goes: Start once per image that is not in the
// cache, with the bytes to download; Add as they come; Done at the end.
type PullProgress interface {
	Start(ref string, total int64)
	Add(n int64)
	Done(err error)
}

// Get returns ref's image for this machine's platform, unpacked: from the
// cache when its digest is there, else pulled and unpacked first. Asking the
// registry for the digest is all a cached image costs.
func (c *ImageCache) Get(ctx context.Context, ref string, progress PullProgress) (*Image, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", ref, err)
	}
	keychain := c.Keychain
	if keychain == nil {
		keychain = authn.DefaultKeychain
	}
	img, err := remote.Image(r, remote.WithContext(ctx), remote.WithAuthFromKeychain(keychain),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}))
	if err != nil {
		return nil, fmt.Errorf("cannot pull image %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	dir := filepath.Join(c.Dir, strings.ReplaceAll(digest.String(), ":", "-"))
	if cached, err := readCached(dir, ref, digest.String()); err == nil {
		return cached, nil
	}
	if err := c.unpack(img, ref, dir, progress); err != nil {
		return nil, err
	}
	return readCached(dir, ref, digest.String())
}

// readCached reads an image unpacked in dir.
func readCached(dir, ref, digest string) (*Image, error) {
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	var cfg v1.ConfigFile
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("image cache %s: bad config.json: %w (remove the directory)", dir, err)
	}
	return &Image{Ref: ref, Digest: digest, Rootfs: filepath.Join(dir, "rootfs"), Config: cfg.Config}, nil
}

// unpack flattens img's layers (whiteouts applied by mutate.Extract) into a
// temporary directory of the cache, then renames it to dir: a run killed
// midway leaves no half image behind dir, and concurrent runs pulling the same
// image each rename a complete one.
func (c *ImageCache) unpack(img v1.Image, ref, dir string, progress PullProgress) (err error) {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("cannot make the image cache %s: %w", c.Dir, err)
	}
	tmp, err := os.MkdirTemp(c.Dir, ".pull-")
	if err != nil {
		return fmt.Errorf("cannot write to the image cache %s: %w", c.Dir, err)
	}
	defer os.RemoveAll(tmp)

	cfg, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("image %s: cannot read its configuration: %w", ref, err)
	}
	counted, total, err := countingImage(img, progress)
	if err != nil {
		return fmt.Errorf("image %s: %w", ref, err)
	}
	if progress != nil {
		progress.Start(ref, total)
		defer func() { progress.Done(err) }()
	}
	rootfs := filepath.Join(tmp, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		return err
	}
	flat := mutate.Extract(counted)
	defer flat.Close()
	if err := untar(flat, rootfs); err != nil {
		return fmt.Errorf("cannot unpack image %s: %w", ref, err)
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "config.json"), data, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, fs.ErrExist) && !isNotEmpty(err) {
		return fmt.Errorf("cannot store image %s in the cache: %w", ref, err)
	}
	return nil
}

// isNotEmpty reports a rename onto a directory another run has just filled.
func isNotEmpty(err error) bool {
	var le *os.LinkError
	return errors.As(err, &le) && strings.Contains(le.Err.Error(), "not empty")
}

// countingImage wraps img so that reading its layers reports the compressed
// bytes read to progress; total is what all layers weigh.
func countingImage(img v1.Image, progress PullProgress) (v1.Image, int64, error) {
	layers, err := img.Layers()
	if err != nil {
		return nil, 0, err
	}
	var total int64
	wrapped := make([]v1.Layer, len(layers))
	for i, l := range layers {
		size, err := l.Size()
		if err != nil {
			return nil, 0, err
		}
		total += size
		if progress == nil {
			wrapped[i] = l
			continue
		}
		if wrapped[i], err = partial.CompressedToLayer(&countedLayer{Layer: l, progress: progress}); err != nil {
			return nil, 0, err
		}
	}
	return &layeredImage{Image: img, layers: wrapped}, total, nil
}

// layeredImage is an image whose Layers are replaced.
type layeredImage struct {
	v1.Image
	layers []v1.Layer
}

func (i *layeredImage) Layers() ([]v1.Layer, error) { return i.layers, nil }

// countedLayer reports the compressed bytes read from a layer.
type countedLayer struct {
	v1.Layer
	progress PullProgress
}

func (l *countedLayer) Compressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	return &countingReader{ReadCloser: rc, progress: l.progress}, nil
}

func (l *countedLayer) MediaType() (types.MediaType, error) { return l.Layer.MediaType() }

type countingReader struct {
	io.ReadCloser
	progress PullProgress
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.progress.Add(int64(n))
	return n, err
}

// Check asks the registry whether ref can be pulled (a HEAD of its manifest,
// with the same credentials as Get).
func (c *ImageCache) Check(ctx context.Context, ref string) error {
	r, err := name.ParseReference(ref)
	if err != nil {
		return fmt.Errorf("image %q: %w", ref, err)
	}
	keychain := c.Keychain
	if keychain == nil {
		keychain = authn.DefaultKeychain
	}
	if _, err := remote.Head(r, remote.WithContext(ctx), remote.WithAuthFromKeychain(keychain)); err != nil {
		return fmt.Errorf("image %s cannot be pulled (%w)", ref, err)
	}
	return nil
}
