package pluginhost

import (
	"os/exec"
	"syscall"
)

// isolate puts the plugin in its own process group, so stopping it can end
// its children too, and has the kernel signal it if the core dies first
// (the SDK then ends the plugin and everything it started).
func isolate(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// killGroup ends whatever is left of the plugin's process group.
func killGroup(pid int) {
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
