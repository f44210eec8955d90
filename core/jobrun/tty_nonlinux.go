//go:build !linux

package jobrun

import (
	"os"
	"syscall"
)

// terminal is a controlling terminal handed to the job; only Linux does
// (see tty_linux.go). Elsewhere a job in its own process group that reads
// heartbeat's terminal is stopped by SIGTTIN: give it another stdin.
type terminal struct{}

func foreground(*os.File) *terminal { return nil }

func (t *terminal) reclaim(int) {}

func (t *terminal) apply(*syscall.SysProcAttr) {}
