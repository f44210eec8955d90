package check

import (
	"os/exec"
	"syscall"
)

// isolate gives the command its own process group, so a timeout ends its
// children too, and has the kernel kill it if heartbeat dies first.
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }
