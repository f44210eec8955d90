package pluginhost

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Verify refuses a plugin that someone other than its owner could have
// replaced: a plugin directory or binary writable by group or others, or a
// symlink leading out of the plugin directory. The core runs whatever the
// plugin directory holds, so the directory is as sensitive as the core
// binary itself. Operators opt out with insecure_plugin_permissions.
func Verify(f Found) error {
	dir := filepath.Dir(f.Path)
	if err := notWritableByOthers(dir, "plugin directory"); err != nil {
		return err
	}
	link, err := os.Lstat(f.Path)
	if err != nil {
		return fmt.Errorf("plugin %s: %w", f.Name, err)
	}
	if link.Mode()&os.ModeSymlink != 0 {
		resolved, err := filepath.EvalSymlinks(f.Path)
		if err != nil {
			return fmt.Errorf("plugin %s: %w", f.Name, err)
		}
		realDir, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return fmt.Errorf("plugin directory %s: %w", dir, err)
		}
		if rel, err := filepath.Rel(realDir, resolved); err != nil || strings.HasPrefix(rel, "..") {
			return fmt.Errorf("plugin %s is a symlink to %s, outside the plugin directory %s; copy the binary into the directory, or set insecure_plugin_permissions: true", f.Path, resolved, dir)
		}
	}
	return notWritableByOthers(f.Path, "plugin")
}

func notWritableByOthers(path, what string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, path, err)
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%s %s is writable by group or others (mode %04o): anyone who can write it can run code as heartbeat; run chmod go-w %s, or set insecure_plugin_permissions: true", what, path, perm, path)
	}
	return nil
}
