package conformance

import "syscall"

// setDeathSignal has the kernel end the plugin if the suite dies first.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGTERM }
