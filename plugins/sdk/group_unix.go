//go:build unix

package sdk

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/hashicorp/go-hclog"
)

// exitOnTerminate ends the plugin and everything it started on SIGTERM,
// which is also the signal the kernel sends when the core dies.
func exitOnTerminate(logger hclog.Logger) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	<-sigs
	// SIGTERM often means the core is gone, and our stderr with it: a log
	// line must not kill the plugin by SIGPIPE before it ends its processes.
	signal.Ignore(syscall.SIGPIPE)
	logger.Debug("terminated; ending the plugin's processes")
	endProcessGroup()
	os.Exit(0)
}

// endProcessGroup kills the processes the plugin started. The core starts
// each plugin as the leader of its own process group; a plugin started any
// other way leads no group and kills nothing but itself.
func endProcessGroup() {
	if pid := os.Getpid(); syscall.Getpgrp() == pid {
		signal.Ignore(syscall.SIGTERM)
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
