package check

import (
	"os"
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

// killOwnGroup kills the wrapper's process group, the wrapper included.
func killOwnGroup() {
	_ = syscall.Kill(-os.Getpid(), syscall.SIGKILL)
	os.Exit(137)
}
