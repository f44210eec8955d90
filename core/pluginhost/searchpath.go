package pluginhost

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Dir is one directory of a plugin search path.
type Dir struct {
	Path string
	// From says where the directory was set, for messages: "--plugin-dir",
	// "$HEARTBEAT_PLUGIN_DIR", "plugin_dirs in /etc/heartbeat/heartbeat.yaml"
	// or "bundled".
	From string
	// Bundled marks the directory of the plugins shipped with heartbeat,
	// searched last. It may be missing (a core built alone); the others
	// must exist.
	Bundled bool
}

// SearchPath is the plugin directories in the order they are searched:
// for each plugin name the first directory holding a file of that name
// wins, so the user's directories, searched before the bundled one, can
// add plugins and replace bundled ones without hiding the others.
type SearchPath []Dir

// String lists the directories, as in messages.
func (sp SearchPath) String() string {
	paths := make([]string, len(sp))
	for i, d := range sp {
		paths[i] = d.Path
	}
	return strings.Join(paths, ", ")
}

// Shadow is a plugin file hidden by a file of the same name in a directory
// searched before its own.
type Shadow struct {
	Name string
	Path string
	Dir  Dir
	// By is the file the name resolves to.
	By string
}

// Catalog is what a search path offers. Nothing in it was run.
type Catalog struct {
	// Path is the search path, directories made absolute, duplicates and
	// a missing bundled directory left out.
	Path SearchPath
	// Found is the plugin each usable name resolves to, by name.
	Found []Found
	// Skipped are the names whose first file cannot be a plugin, with the
	// reason; a usable file of the same name later on the path is not
	// used in its place (it is listed in Shadowed).
	Skipped []Skipped
	// Shadowed are the files hidden by one earlier on the path.
	Shadowed []Shadow
	// from is the directory of each file in Found and Skipped, by path.
	from map[string]Dir
}

// Scan lists the plugins of every directory on the path. A directory that
// cannot be read is an error naming where it was set, except a missing
// bundled directory, which is left out; a path left empty is an error too.
func (sp SearchPath) Scan() (*Catalog, error) {
	c := &Catalog{from: map[string]Dir{}}
	winner := map[string]string{} // name -> the path it resolves to
	seen := map[string]bool{}
	var missingBundled []string
	for _, d := range sp {
		abs, err := filepath.Abs(d.Path)
		if err != nil {
			return nil, fmt.Errorf("plugin directory %s (%s): %w", d.Path, d.From, err)
		}
		if seen[abs] {
			continue
		}
		seen[abs] = true
		d.Path = abs
		found, skipped, err := Scan(abs)
		if err != nil {
			if d.Bundled && errors.Is(err, os.ErrNotExist) {
				missingBundled = append(missingBundled, abs)
				continue
			}
			return nil, fmt.Errorf("plugin directory %s (%s) cannot be read: %w; create it or correct the path", abs, d.From, cause(unwrapAll(err)))
		}
		c.Path = append(c.Path, d)
		add := func(name, path string) bool {
			if by, ok := winner[name]; ok {
				c.Shadowed = append(c.Shadowed, Shadow{Name: name, Path: path, Dir: d, By: by})
				return false
			}
			winner[name] = path
			c.from[path] = d
			return true
		}
		// A name's first file wins whether or not it is usable: a broken
		// plugin must not silently fall back to another binary.
		for _, f := range found {
			if add(f.Name, f.Path) {
				c.Found = append(c.Found, Found{Name: f.Name, Path: f.Path})
			}
		}
		for _, s := range skipped {
			if add(s.Name, s.Path) {
				c.Skipped = append(c.Skipped, s)
			}
		}
	}
	if len(c.Path) == 0 {
		if len(missingBundled) > 0 {
			return nil, fmt.Errorf("no plugin directory: the bundled one is missing (%s); install the plugins there, or set plugin_dirs in the config, --plugin-dir or $HEARTBEAT_PLUGIN_DIR", strings.Join(missingBundled, " nor "))
		}
		return nil, errors.New("no plugin directory: set plugin_dirs in the config, --plugin-dir or $HEARTBEAT_PLUGIN_DIR")
	}
	sort.Slice(c.Found, func(i, j int) bool { return c.Found[i].Name < c.Found[j].Name })
	sort.Slice(c.Skipped, func(i, j int) bool { return c.Skipped[i].Name < c.Skipped[j].Name })
	return c, nil
}

// unwrapAll is the innermost error of a chain.
func unwrapAll(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// Lookup returns the plugin name resolves to.
func (c *Catalog) Lookup(name string) (Found, bool) { return Lookup(c.Found, name) }

// Names lists the usable plugin names.
func (c *Catalog) Names() []string { return Names(c.Found) }

// DirOf is the directory on the path a file of Found or Skipped is in.
func (c *Catalog) DirOf(path string) (Dir, bool) {
	d, ok := c.from[path]
	return d, ok
}

// Shadows lists the files the name's winner hides, in path order.
func (c *Catalog) Shadows(name string) []Shadow {
	var out []Shadow
	for _, s := range c.Shadowed {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// WhyNotFound explains why the path offers no plugin called name: the
// file it resolves to cannot be run ("/p/heartbeat-target-x is not
// executable: run chmod +x ..."), and which usable file of that name it
// hides. It returns "" when the name resolves to a usable plugin or to no
// file at all.
func (c *Catalog) WhyNotFound(name string) string {
	for _, s := range c.Skipped {
		if s.Name != name {
			continue
		}
		why := s.Path + " is " + s.Reason
		for _, sh := range c.Shadows(name) {
			why += fmt.Sprintf("; it hides %s, which is not used in its place", sh.Path)
			break
		}
		return why
	}
	return ""
}
