package cluster

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill a helper command (ctr, kubectl) when this
// process exits, as it does at once when a test run is interrupted.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
