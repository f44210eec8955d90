package check

import (
	"os"
	"os/exec"
)

// Windows has no process groups to signal: a check command is stopped on
// its own, and the processes it started are left to the service manager
// (a Windows service's job object ends them with the service).
func isolate(*exec.Cmd) {}

func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

// killOwnGroup ends the wrapper.
func killOwnGroup() { os.Exit(137) }
