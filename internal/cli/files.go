package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/kubeci/kubeci/internal/manifest"
)

// maxInput is the most kubeci reads from one file or from standard input: a
// Workflow or a trigger object is kilobytes; a bigger input is a mistake
// (kubeci validate -f /dev/zero) that must not eat the machine's memory.
const maxInput = 10 << 20

// readInput reads file ("-" is stdin) whole, refusing more than maxInput
// bytes.
func readInput(file string, stdin io.Reader) ([]byte, error) {
	r := stdin
	name := "standard input"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r, name = f, file
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if len(data) > maxInput {
		return nil, fmt.Errorf("%s is larger than %d MiB: kubeci reads Workflow files and objects up to that size", name, maxInput>>20)
	}
	return data, nil
}

// loadFiles reads every document of every file ("-" is stdin). A file that
// cannot be read is reported as an error; bad documents are returned with
// their Err set.
func (o *Options) loadFiles(files []string) ([]manifest.Document, error) {
	if len(files) == 0 {
		return nil, fmt.Errorf("no file given: use -f FILE (or -f - for standard input)")
	}
	var docs []manifest.Document
	for _, f := range files {
		data, err := readInput(f, o.In)
		if err != nil {
			return nil, err
		}
		d, err := manifest.Load(f, bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
	}
	return docs, nil
}
