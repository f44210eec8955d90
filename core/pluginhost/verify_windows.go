package pluginhost

import (
	"fmt"
	"os"
)

// checkTree checks that path (the plugin directory or binary, named by
// what) exists. Windows has no owner and mode bits for Go to read: the
// file modes Go reports there say only whether the read-only attribute is
// set, so they cannot tell who may replace a plugin. Who may write the
// plugin directory is decided by its ACL, which heartbeat does not read:
// the bundled directory under Program Files is writable by administrators
// only, and a directory given with --plugin-dir or plugin_dirs must be
// protected the same way (docs/operations.md, Windows).
func checkTree(path, what string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	return nil
}
