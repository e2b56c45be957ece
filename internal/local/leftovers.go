package local

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Temporary directories of a run are named kubeci-KIND-PID-RANDOM, KIND being
// run (the workspace), root (the host runtime's mount point) or oci (the oci
// runtime's bundles and runc state), PID the process of the kubeci that made
// them: when that process is gone, the directory is left over from a run that
// was killed (SIGKILL, a crash, a power cut) and the next run removes it.
var tempKinds = []string{"run", "root", "oci"}

// makeRunTemp makes a temporary directory of this run.
func makeRunTemp(kind string) (string, error) {
	return os.MkdirTemp("", fmt.Sprintf("kubeci-%s-%d-", kind, os.Getpid()))
}

// Leftover is a temporary directory of an earlier run.
type Leftover struct {
	// Path of the directory.
	Path string
	// Removed is true when CleanLeftovers removed it; else Reason says why it
	// stays.
	Removed bool
	Reason  string
}

// leftoverOwner tells, from a temporary directory's name, the kubeci process
// that made it: ok is false for names that are not a run's, pid is 0 for
// directories of kubeci versions that did not name their process.
func leftoverOwner(name string) (kind string, pid int, ok bool) {
	for _, k := range tempKinds {
		rest, found := strings.CutPrefix(name, "kubeci-"+k+"-")
		if !found {
			continue
		}
		p, _, hasPID := strings.Cut(rest, "-")
		if n, err := strconv.Atoi(p); hasPID && err == nil && n > 0 {
			return k, n, true
		}
		return k, 0, true
	}
	return "", 0, false
}

// CleanLeftovers removes, from the temporary directory, what runs of kubeci
// that were killed left behind: directories whose process is gone (for the
// oci runtime's, their containers too, with runc). Directories that do not
// name their process are reported, not removed: another run may be using
// them.
func CleanLeftovers(runc string) []Leftover {
	if runc == "" {
		runc = "runc"
	}
	tmp := os.TempDir()
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil
	}
	var out []Leftover
	for _, e := range entries {
		kind, pid, ok := leftoverOwner(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		path := filepath.Join(tmp, e.Name())
		switch {
		case pid == 0:
			out = append(out, Leftover{Path: path, Reason: "it may belong to a kubeci run still going; remove it if none is"})
			continue
		case processAlive(pid):
			continue
		}
		var err error
		switch kind {
		case "oci":
			err = removeOCIDir(runc, path)
		case "root":
			err = os.Remove(path) // a mount point: empty, never removed recursively
		default:
			err = os.RemoveAll(path)
		}
		if err != nil {
			out = append(out, Leftover{Path: path, Reason: err.Error()})
			continue
		}
		out = append(out, Leftover{Path: path, Removed: true})
	}
	return out
}
