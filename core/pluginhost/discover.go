// Package pluginhost finds, starts, restarts and stops target plugin
// processes, and routes each call to the process serving the instance.
package pluginhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
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

// Skipped is a file named like a plugin that cannot be one.
type Skipped struct {
	Name string
	Path string
	// Reason says why, and the fix: "not executable: run chmod +x ...".
	Reason string
}

// Discover lists the plugins in dir: regular, executable files named
// heartbeat-target-<name> (heartbeat-target-<name>.exe on Windows).
// Directories, other files and files without an execute bit are skipped.
func Discover(dir string) ([]Found, error) {
	found, _, err := Scan(dir)
	return found, err
}

// Scan lists the plugins in dir as Discover does, and the files named like
// plugins that are not usable, with the reason. Backup files (a name ending
// in ~) are neither. Nothing is run.
func Scan(dir string) ([]Found, []Skipped, error) { return scan(dir, runtime.GOOS) }

// FileName is the file name of the plugin called name on this system:
// heartbeat-target-<name>, with .exe on Windows.
func FileName(name string) string { return fileName(name, runtime.GOOS) }

func fileName(name, goos string) string {
	if goos == "windows" {
		return sdk.BinaryPrefix + name + ".exe"
	}
	return sdk.BinaryPrefix + name
}

// pluginName is the plugin name a file in a plugin directory offers
// (its name without heartbeat-target- and, on Windows, .exe). bare marks a
// file on Windows named like a plugin but without .exe, which Windows
// would not run. Backup files (a name ending in ~) and, on Windows, files
// with another extension offer none.
func pluginName(file, goos string) (name string, bare, ok bool) {
	name, ok = strings.CutPrefix(file, sdk.BinaryPrefix)
	if !ok || name == "" || strings.HasSuffix(name, "~") {
		return "", false, false
	}
	if goos != "windows" {
		return name, false, true
	}
	if ext := filepath.Ext(name); strings.EqualFold(ext, ".exe") {
		name = strings.TrimSuffix(name, ext)
	} else {
		bare = true
	}
	// The name of a plugin has no dot: another extension (.pdb, .txt) is
	// not a plugin.
	if name == "" || strings.Contains(name, ".") {
		return "", false, false
	}
	return name, bare, true
}

func scan(dir, goos string) ([]Found, []Skipped, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("plugin directory %s: %w", dir, err)
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read the plugin directory: %w (set plugin_dirs in the config, --plugin-dir or HEARTBEAT_PLUGIN_DIR)", err)
	}
	var found []Found
	var skipped []Skipped
	var bare []Skipped
	named := map[string]bool{}
	for _, e := range entries {
		name, noExe, ok := pluginName(e.Name(), goos)
		if !ok {
			continue
		}
		path := filepath.Join(abs, e.Name())
		if noExe {
			bare = append(bare, Skipped{Name: name, Path: path, Reason: noExeReason(name, goos)})
			continue
		}
		named[name] = true
		if reason := unusable(path, goos); reason != "" {
			skipped = append(skipped, Skipped{Name: name, Path: path, Reason: reason})
			continue
		}
		found = append(found, Found{Name: name, Path: path})
	}
	// A file without .exe explains why a name is missing on Windows, unless
	// the .exe is there too.
	for _, b := range bare {
		if !named[b.Name] {
			skipped = append(skipped, b)
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
	sort.Slice(skipped, func(i, j int) bool { return skipped[i].Name < skipped[j].Name })
	return found, skipped, nil
}

// WhyNotFound explains why dir offers no plugin called name although a
// file of that name is there, e.g. "/p/heartbeat-target-x is not
// executable: run chmod +x /p/heartbeat-target-x". It returns "" when dir
// holds no such file (or a usable one).
func WhyNotFound(dir, name string) string {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return ""
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	goos := runtime.GOOS
	path := filepath.Join(abs, fileName(name, goos))
	if _, err := os.Lstat(path); err != nil {
		bare := filepath.Join(abs, sdk.BinaryPrefix+name)
		if _, err := os.Lstat(bare); err == nil && goos == "windows" {
			return bare + " is " + noExeReason(name, goos)
		}
		return ""
	}
	if reason := unusable(path, goos); reason != "" {
		return path + " is " + reason
	}
	return ""
}

// noExeReason says why a plugin file without .exe is not run on Windows.
func noExeReason(name, goos string) string {
	return "not a Windows program (no .exe): rename it " + fileName(name, goos)
}

// unusable says why path cannot be run as a plugin, "" when it can. On
// Windows a file runs by its .exe name, not by an execute bit, which Go
// does not report there.
func unusable(path, goos string) string {
	info, err := os.Stat(path) // follows symlinks: the target must be a regular file
	switch {
	case err != nil:
		if target, lerr := os.Readlink(path); lerr == nil {
			return fmt.Sprintf("a symlink to %s, which cannot be read (%v): fix or remove the link", target, cause(err))
		}
		return fmt.Sprintf("not readable: %v", cause(err))
	case info.IsDir():
		return "a directory, not a program: remove it or give it another name"
	case !info.Mode().IsRegular():
		return "not a regular file: a plugin is a program file"
	case goos != "windows" && info.Mode().Perm()&0o111 == 0:
		return "not executable: run chmod +x " + path
	}
	return ""
}

// cause drops the path os errors repeat.
func cause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
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
