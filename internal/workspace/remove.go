package workspace

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Remove deletes the folder dir and everything in it, dotfiles included,
// as `rm -rf -- dir` does: symbolic links are removed, never followed, so
// nothing outside dir is touched. It fails when something is left, and
// refuses a dir that is not a clean absolute path at least two levels below
// "/" (the cleanup pod's is /workspaces/<workplan>), so a wrong argument
// cannot empty a whole mount. A dir that does not exist is already removed.
// It reports what it did on out.
func Remove(dir string, out io.Writer) error {
	if err := checkDir(dir); err != nil {
		return err
	}
	err := os.RemoveAll(dir)
	if _, statErr := os.Lstat(dir); !errors.Is(statErr, os.ErrNotExist) {
		if err == nil {
			err = statErr
		}
		return fmt.Errorf("kubeci: %s could not be removed: %v", dir, err)
	}
	fmt.Fprintf(out, "kubeci: removed %s\n", dir)
	return nil
}

// checkDir refuses a dir that is not a clean absolute path at least two
// levels below "/".
func checkDir(dir string) error {
	if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir || filepath.Dir(dir) == "/" || dir == "/" {
		return fmt.Errorf("refusing to remove %q: want a clean absolute path below a folder of its own, such as /workspaces/my-run", dir)
	}
	return nil
}
