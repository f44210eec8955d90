//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyAlarm delivers SIGALRM, which runs a periodic job at once (as
// runitor does), to c.
func notifyAlarm(c chan<- os.Signal) { signal.Notify(c, syscall.SIGALRM) }
