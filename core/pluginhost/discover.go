// Package pluginhost finds, starts, restarts and stops target plugin
// processes, and routes each call to the process serving the instance.
package pluginhost

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Found is a plugin binary in the plugin directory.
type Found struct {
	// Name is the part after heartbeat-target-, as written in configs.
	Name string
	Path string
	// SHA256, when set, pins the binary: go-plugin refuses to run a file
	// with another checksum.
	SHA256 []byte
}

// Discover lists the plugins in dir: regular, executable files named
// heartbeat-target-<name>. Directories, other files and files without an
// execute bit are skipped.
func Discover(dir string) ([]Found, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("plugin directory %s: %w", dir, err)
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, fmt.Errorf("cannot read the plugin directory: %w (set plugin_dir in the config, --plugin-dir or HEARTBEAT_PLUGIN_DIR)", err)
	}
	var found []Found
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), sdk.BinaryPrefix)
		if !ok || name == "" || strings.HasSuffix(name, "~") {
			continue
		}
		path := filepath.Join(abs, e.Name())
		info, err := os.Stat(path) // follows symlinks: the target must be a regular file
		if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o111 == 0 {
			continue
		}
		found = append(found, Found{Name: name, Path: path})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	return found, nil
}

// Lookup returns the plugin called name from found.
func Lookup(found []Found, name string) (Found, bool) {
	for _, f := range found {
		if f.Name == name {
			return f, true
		}
	}
	return Found{}, false
}

// Names lists the names of found.
func Names(found []Found) []string {
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = f.Name
	}
	return names
}
