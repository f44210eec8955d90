package check

import (
	"os/exec"
	"syscall"
)

// isolate gives the command its own process group, so a timeout ends its
// children too, and has the kernel signal it if heartbeat dies first (the
// check wrapper then ends the whole group).
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
