//go:build !unix

package pluginhost

import "os"

// notifyChildExits returns nil here, where there is no SIGCHLD: Supervise
// learns of plugin exits from the process waits alone.
func notifyChildExits() (<-chan os.Signal, func()) { return nil, func() {} }
