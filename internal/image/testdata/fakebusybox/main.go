// Command fakebusybox stands in for busybox in the image builder's tests: a
// static binary that lists a few applets.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--list" {
		fmt.Println("busybox\ncat\nls\nsh\nsleep")
		return
	}
	fmt.Println("fakebusybox")
}
