package local

import (
	"fmt"
	"os"
	"path/filepath"
)

// Workspace is the directory a run's steps share at /kubeci.
type Workspace struct {
	// Dir is the workspace directory.
	Dir string
	// temp is the temporary directory holding Dir, removed by Close; empty when
	// the workspace is kept.
	temp string
}

// NewWorkspace returns the workspace of a run: dir when given (made when
// missing, never removed), else a fresh temporary directory, removed by Close
// unless keep is set.
//
// A temporary workspace is open to every user (0777) inside a directory only
// its owner may enter (0700): steps whose image runs as another user can write
// to it, other users of this machine cannot reach it.
func NewWorkspace(dir string, keep bool) (*Workspace, error) {
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("workspace %s: %w", dir, err)
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, fmt.Errorf("cannot make the workspace: %w", err)
		}
		return &Workspace{Dir: abs}, nil
	}
	temp, err := makeRunTemp("run")
	if err != nil {
		return nil, fmt.Errorf("cannot make a temporary workspace: %w (set TMPDIR, or use --workspace DIR)", err)
	}
	ws := &Workspace{Dir: filepath.Join(temp, "workspace"), temp: temp}
	if err := os.Mkdir(ws.Dir, 0o777); err == nil {
		err = os.Chmod(ws.Dir, 0o777) // whatever the umask
	}
	if err != nil {
		os.RemoveAll(temp)
		return nil, fmt.Errorf("cannot make a temporary workspace: %w", err)
	}
	if keep {
		ws.temp = ""
	}
	return ws, nil
}

// Kept reports whether Close leaves the workspace in place.
func (w *Workspace) Kept() bool { return w.temp == "" }

// Close removes a temporary workspace that is not kept, with everything the
// steps left in it.
func (w *Workspace) Close() error {
	if w.temp == "" {
		return nil
	}
	if err := os.RemoveAll(w.temp); err != nil {
		return fmt.Errorf("cannot remove the workspace %s: %w; remove it by hand (files a container made may belong to another user)", w.Dir, err)
	}
	return nil
}
