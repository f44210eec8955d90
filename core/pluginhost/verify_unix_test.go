//go:build unix

package pluginhost

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// otherUID owns files in the tests that need someone else's files; only
// root can make them.
const otherUID = 4242

func TestVerifyTree(t *testing.T) {
	asRoot := os.Geteuid() == 0
	tests := []struct {
		name string
		// prepare changes the tree root/parent/plugins/heartbeat-target-x
		// (every mode 0755) and returns the plugin's path as the core
		// would see it; "" keeps the default.
		prepare   func(t *testing.T, root string) string
		needsRoot bool
		want      string // "" when accepted
	}{
		{"plain tree", nil, false, ""},
		{"binary group-writable", chmodIn("parent/plugins/heartbeat-target-x", 0o775), false, "writable by group or others"},
		{"binary world-writable", chmodIn("parent/plugins/heartbeat-target-x", 0o757), false, "writable by group or others"},
		{"directory group-writable", chmodIn("parent/plugins", 0o775), false, "plugin directory"},
		{"directory world-writable and sticky", chmodIn("parent/plugins", os.ModeSticky|0o777), false, "mode 1777"},
		{"parent world-writable", chmodIn("parent", 0o777), false, "without the sticky bit"},
		{"parent group-writable", chmodIn("parent", 0o775), false, "without the sticky bit"},
		{"grandparent world-writable", chmodIn(".", 0o777), false, "without the sticky bit"},
		{"parent world-writable with the sticky bit", chmodIn("parent", os.ModeSticky|0o777), false, ""},
		{"plugin directory reached through a symlink in a world-writable directory", func(t *testing.T, root string) string {
			open := mkdirIn(t, root, "open", 0o777)
			symlinkIn(t, filepath.Join(root, "parent", "plugins"), filepath.Join(open, "link"))
			return filepath.Join(open, "link", "heartbeat-target-x")
		}, false, "without the sticky bit"},
		{"plugin directory is a symlink into a world-writable tree", func(t *testing.T, root string) string {
			open := mkdirIn(t, root, "open", 0o777)
			if err := os.Rename(filepath.Join(root, "parent", "plugins"), filepath.Join(open, "plugins")); err != nil {
				t.Fatal(err)
			}
			symlinkIn(t, filepath.Join(open, "plugins"), filepath.Join(root, "parent", "plugins"))
			return ""
		}, false, "without the sticky bit"},
		{"plugin directory is a symlink into a sticky tree", func(t *testing.T, root string) string {
			sticky := mkdirIn(t, root, "sticky", os.ModeSticky|0o777)
			if err := os.Rename(filepath.Join(root, "parent", "plugins"), filepath.Join(sticky, "plugins")); err != nil {
				t.Fatal(err)
			}
			symlinkIn(t, filepath.Join(sticky, "plugins"), filepath.Join(root, "parent", "plugins"))
			return ""
		}, false, ""},
		{"binary is a symlink into a world-writable subdirectory", func(t *testing.T, root string) string {
			plugins := filepath.Join(root, "parent", "plugins")
			sub := mkdirIn(t, plugins, "sub", 0o777)
			if err := os.Rename(filepath.Join(plugins, "heartbeat-target-x"), filepath.Join(sub, "real")); err != nil {
				t.Fatal(err)
			}
			symlinkIn(t, filepath.Join(sub, "real"), filepath.Join(plugins, "heartbeat-target-x"))
			return ""
		}, false, "without the sticky bit"},
		{"binary is a symlink out of the directory", func(t *testing.T, root string) string {
			plugins := filepath.Join(root, "parent", "plugins")
			if err := os.Rename(filepath.Join(plugins, "heartbeat-target-x"), filepath.Join(root, "real")); err != nil {
				t.Fatal(err)
			}
			symlinkIn(t, filepath.Join(root, "real"), filepath.Join(plugins, "heartbeat-target-x"))
			return ""
		}, false, "outside the plugin directory"},
		{"binary owned by another user", chownIn("parent/plugins/heartbeat-target-x"), true, "belongs to uid 4242"},
		{"plugin directory owned by another user", chownIn("parent/plugins"), true, "belongs to uid 4242"},
		{"parent owned by another user", chownIn("parent"), true, "belongs to uid 4242"},
		{"sticky parent with a plugin directory owned by another user", func(t *testing.T, root string) string {
			chmodIn("parent", os.ModeSticky|0o777)(t, root)
			return chownIn("parent/plugins")(t, root)
		}, true, "belongs to uid 4242"},
		{"sticky parent owned by another user", func(t *testing.T, root string) string {
			chmodIn("parent", os.ModeSticky|0o777)(t, root)
			return chownIn("parent")(t, root)
		}, true, "belongs to uid 4242"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needsRoot && !asRoot {
				t.Skip("only root can give files to another user")
			}
			root := t.TempDir()
			if err := os.Chmod(root, 0o755); err != nil {
				t.Fatal(err)
			}
			plugins := filepath.Join(mkdirIn(t, root, "parent", 0o755), "plugins")
			mkdirIn(t, filepath.Dir(plugins), "plugins", 0o755)
			path := filepath.Join(plugins, "heartbeat-target-x")
			if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, 0o755); err != nil {
				t.Fatal(err)
			}
			if tt.prepare != nil {
				if p := tt.prepare(t, root); p != "" {
					path = p
				}
			}
			err := Verify(Found{Name: "x", Path: path})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Verify refused: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("Verify accepted; want an error with %q", tt.want)
			case err != nil && !strings.Contains(err.Error(), tt.want):
				t.Errorf("error %q lacks %q", err, tt.want)
			case err != nil && !strings.Contains(err.Error(), "insecure_plugin_permissions"):
				t.Errorf("error %q does not name the escape hatch", err)
			}
		})
	}
}

func chmodIn(rel string, mode os.FileMode) func(*testing.T, string) string {
	return func(t *testing.T, root string) string {
		t.Helper()
		if err := os.Chmod(filepath.Join(root, rel), mode); err != nil {
			t.Fatal(err)
		}
		return ""
	}
}

func chownIn(rel string) func(*testing.T, string) string {
	return func(t *testing.T, root string) string {
		t.Helper()
		if err := os.Lchown(filepath.Join(root, rel), otherUID, otherUID); err != nil {
			t.Fatal(err)
		}
		return ""
	}
}

func mkdirIn(t *testing.T, parent, name string, mode os.FileMode) string {
	t.Helper()
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, mode); err != nil { // umask must not decide
		t.Fatal(err)
	}
	return dir
}

func symlinkIn(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
