//go:build unix && !linux

package conformance

import "syscall"

func setDeathSignal(*syscall.SysProcAttr) {}
