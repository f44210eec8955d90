// Command sleeper is bench/idle's reference: a Go process that does
// nothing, blocked in a select on a signal channel until SIGTERM or SIGINT.
// Whatever it wakes for at rest is the Go runtime's own floor.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-c:
	}
}
