//go:build unix && !linux

package check

import (
	"os"
	"os/exec"
	"syscall"
)

func isolate(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func killGroup(pid int) error { return syscall.Kill(-pid, syscall.SIGKILL) }

// killOwnGroup kills the wrapper's process group, the wrapper included.
func killOwnGroup() {
	_ = syscall.Kill(-os.Getpid(), syscall.SIGKILL)
	os.Exit(137)
}
