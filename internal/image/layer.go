package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// entry is one file, folder or symbolic link of a layer.
type entry struct {
	Name     string // path inside the image, without a leading slash
	Mode     int64  // permission bits
	Dir      bool
	Link     string // target of a symbolic link; empty for files and folders
	Data     []byte // content of a regular file
	UID, GID int
}

// Layer gathers files, folders and links and writes them as one image
// layer. A later entry of the same name replaces an earlier one.
type Layer struct {
	entries map[string]entry
}

// NewLayer returns an empty layer.
func NewLayer() *Layer { return &Layer{entries: map[string]entry{}} }

// Dir adds a folder (and its missing parents).
func (l *Layer) Dir(name string, mode int64, uid, gid int) {
	l.parents(name)
	l.entries[clean(name)] = entry{Name: clean(name), Mode: mode, Dir: true, UID: uid, GID: gid}
}

// File adds a regular file owned by root.
func (l *Layer) File(name string, mode int64, data []byte) {
	l.parents(name)
	l.entries[clean(name)] = entry{Name: clean(name), Mode: mode, Data: data}
}

// Symlink adds a symbolic link.
func (l *Layer) Symlink(name, target string) {
	l.parents(name)
	l.entries[clean(name)] = entry{Name: clean(name), Mode: 0o777, Link: target}
}

// Has reports whether the layer holds an entry of that name.
func (l *Layer) Has(name string) bool {
	_, ok := l.entries[clean(name)]
	return ok
}

// parents adds the folders above name that are not in the layer yet, as
// root-owned 0755 folders.
func (l *Layer) parents(name string) {
	for dir := path.Dir(clean(name)); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if _, ok := l.entries[dir]; !ok {
			l.entries[dir] = entry{Name: dir, Mode: 0o755, Dir: true}
		}
	}
}

// tar writes the layer as an uncompressed tar archive, folders before their
// content and names sorted, with zero times so that the result is reproducible.
func (l *Layer) tar() ([]byte, error) {
	names := make([]string, 0, len(l.entries))
	for name := range l.entries {
		names = append(names, name)
	}
	sort.Strings(names) // a parent sorts before its children
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range names {
		e := l.entries[name]
		h := &tar.Header{
			Name:    e.Name,
			Mode:    e.Mode,
			Uid:     e.UID,
			Gid:     e.GID,
			ModTime: time.Unix(0, 0),
			Format:  tar.FormatPAX,
		}
		switch {
		case e.Dir:
			h.Typeflag = tar.TypeDir
			h.Name += "/"
		case e.Link != "":
			h.Typeflag = tar.TypeSymlink
			h.Linkname = e.Link
		default:
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("writing the layer entry %s: %w", name, err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.Data); err != nil {
				return nil, fmt.Errorf("writing the layer entry %s: %w", name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// layer turns the layer into an OCI image layer (gzip-compressed when
// written; Go's gzip output depends only on its input, so the compressed
// digest is reproducible too).
func (l *Layer) layer() (v1.Layer, error) {
	data, err := l.tar()
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

func clean(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}
