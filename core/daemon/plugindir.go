package daemon

import (
	"os"
	"path/filepath"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/core/pluginhost"
)

// PluginDirEnv names plugin directories, a path list (":" between them on
// Unix), when --plugin-dir is not given.
const PluginDirEnv = "HEARTBEAT_PLUGIN_DIR"

// PluginPath is the plugin search path: the user's directories, then the
// bundled one. The user's directories come from the first of these that
// is set: the --plugin-dir flags (each may be a path list), the
// $HEARTBEAT_PLUGIN_DIR path list, the config's plugin_dirs. The bundled
// directory always comes last, so adding a plugin never hides the plugins
// shipped with heartbeat.
func PluginPath(flags []string, cfg *config.Config) pluginhost.SearchPath {
	var sp pluginhost.SearchPath
	add := func(from string, dirs ...string) {
		for _, d := range dirs {
			for _, p := range filepath.SplitList(d) {
				if p != "" {
					sp = append(sp, pluginhost.Dir{Path: p, From: from})
				}
			}
		}
	}
	add("--plugin-dir", flags...)
	if len(sp) == 0 {
		add("$"+PluginDirEnv, os.Getenv(PluginDirEnv))
	}
	if len(sp) == 0 && cfg != nil {
		for _, d := range cfg.PluginDirs {
			// Not a path list: the config's entries are one directory each.
			sp = append(sp, pluginhost.Dir{Path: d, From: "plugin_dirs in " + cfg.File})
		}
	}
	return append(sp, pluginhost.Dir{Path: BundledPluginDir(), From: "bundled", Bundled: true})
}

// BundledPluginDir is where the plugins shipped with heartbeat are:
// plugins/ next to the heartbeat executable, or ../lib/heartbeat/plugins
// (make install), whichever exists; plugins/ when neither does.
func BundledPluginDir() string {
	exe, err := os.Executable()
	if err != nil {
		return "plugins"
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	dir := filepath.Dir(exe)
	candidates := []string{filepath.Join(dir, "plugins"), filepath.Join(dir, "..", "lib", "heartbeat", "plugins")}
	for _, c := range candidates {
		if info, err := os.Stat(c); err == nil && info.IsDir() {
			return c
		}
	}
	return candidates[0]
}
