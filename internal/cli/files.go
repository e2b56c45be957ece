package cli

import (
	"fmt"

	"github.com/kubeci/kubeci/internal/manifest"
)

// loadFiles reads every document of every file ("-" is stdin). A file that
// cannot be read is reported as an error; bad documents are returned with
// their Err set.
func (o *Options) loadFiles(files []string) ([]manifest.Document, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("no file given: use -f FILE (or -f - for standard input)")
	}
	var docs []manifest.Document
	for _, f := range files {
		d, err := manifest.LoadFile(f, o.In)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
	}
	return docs, nil
}
