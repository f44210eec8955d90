//go:build unix

package pluginhost

import (
	"os"
	"os/signal"
	"syscall"
)

// notifyChildExits returns a channel that receives when a child of the
// core exits (SIGCHLD): a plugin, or an orphan the core adopted.
func notifyChildExits() (<-chan os.Signal, func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGCHLD)
	return c, func() { signal.Stop(c) }
}
