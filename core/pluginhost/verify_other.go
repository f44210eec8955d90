//go:build !unix && !windows

package pluginhost

import (
	"fmt"
	"os"
)

// checkTree checks path (the plugin directory or binary, named by what).
// Without Unix owners and modes, only the write bits Go reports are seen.
func checkTree(path, what string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	if mode := info.Mode(); mode.Perm()&0o022 != 0 {
		return fmt.Errorf("%s %s is writable by group or others (mode %s): anyone who can write it can run code as heartbeat; run chmod go-w %s, %s", what, path, octal(mode), path, insecureHint)
	}
	return nil
}
