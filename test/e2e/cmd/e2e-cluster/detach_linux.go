package main

import (
	"os"
	"syscall"
)

// detachOutput points standard input, output and error at /dev/null, closing
// the pipe `up` reads so that it returns.
func detachOutput() error {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	for fd := range 3 {
		if err := syscall.Dup3(int(null.Fd()), fd, 0); err != nil {
			return err
		}
	}
	return nil
}
