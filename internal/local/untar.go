package local

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// untar writes the flattened file system tar stream r (mutate.Extract's, with
// whiteouts already applied) into the directory dir. Every operation goes
// through an os.Root, so that no entry, and no symbolic link an entry makes,
// can reach outside dir. Owners are kept when kubeci runs as root; device
// nodes and FIFOs are skipped (a container gets its own /dev).
func untar(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	chown := os.Geteuid() == 0
	type dirMode struct {
		name string
		mode fs.FileMode
	}
	var dirs []dirMode // set last: a read-only directory must first be filled
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		name, ok := entryName(hdr.Name)
		if !ok {
			continue
		}
		mode := hdr.FileInfo().Mode()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			dirs = append(dirs, dirMode{name, mode})
		case tar.TypeReg:
			if err := makeParent(root, name); err != nil {
				return err
			}
			if err := writeEntry(root, name, mode, tr); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		case tar.TypeSymlink:
			if err := makeParent(root, name); err != nil {
				return err
			}
			_ = root.Remove(name)
			if err := root.Symlink(hdr.Linkname, name); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		case tar.TypeLink:
			target, ok := entryName(hdr.Linkname)
			if !ok {
				continue
			}
			if err := makeParent(root, name); err != nil {
				return err
			}
			_ = root.Remove(name)
			if err := root.Link(target, name); err != nil {
				return fmt.Errorf("%s: hard link to %s: %w", name, target, err)
			}
		default:
			continue
		}
		if chown {
			if err := root.Lchown(name, hdr.Uid, hdr.Gid); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeLink {
			// After chown, which clears set-user-ID bits.
			if err := root.Chmod(name, mode.Perm()|mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	for _, d := range dirs {
		if err := root.Chmod(d.name, d.mode.Perm()|d.mode&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			return fmt.Errorf("%s: %w", d.name, err)
		}
	}
	return nil
}

// entryName is a tar entry's path relative to the root, or false for the
// root itself.
func entryName(name string) (string, bool) {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	return name, name != ""
}

func makeParent(root *os.Root, name string) error {
	if dir := path.Dir(name); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
	}
	return nil
}

func writeEntry(root *os.Root, name string, mode fs.FileMode, r io.Reader) error {
	_ = root.Remove(name)
	f, err := root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode.Perm()|0o200)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
