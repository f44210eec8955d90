package daemon

import (
	"os"
	"path/filepath"
)

// PluginDirEnv names the plugin directory when --plugin-dir is not given.
const PluginDirEnv = "HEARTBEAT_PLUGIN_DIR"

// ResolvePluginDir picks the plugin directory: the --plugin-dir flag, then
// $HEARTBEAT_PLUGIN_DIR, then the config's plugin_dir, then plugins/ next to
// the heartbeat executable, then ../lib/heartbeat/plugins (make install).
func ResolvePluginDir(flag, fromConfig string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv(PluginDirEnv); env != "" {
		return env
	}
	if fromConfig != "" {
		return fromConfig
	}
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
