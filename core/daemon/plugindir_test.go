package daemon

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
)

func TestPluginPath(t *testing.T) {
	list := func(dirs ...string) string { return strings.Join(dirs, string(filepath.ListSeparator)) }
	cfg := &config.Config{File: "/etc/heartbeat/heartbeat.yaml", PluginDirs: []string{"/etc/heartbeat/mine", "/opt/shared"}}
	tests := []struct {
		name  string
		flags []string
		env   string
		cfg   *config.Config
		want  []string // the user's directories, then "bundled"
		from  string   // where the first came from
	}{
		{name: "nothing set: the bundled directory alone", want: []string{"bundled"}},
		{name: "the config", cfg: cfg, want: []string{"/etc/heartbeat/mine", "/opt/shared", "bundled"}, from: "plugin_dirs in /etc/heartbeat/heartbeat.yaml"},
		{name: "the environment, a path list, before the config", env: list("/e1", "", "/e2"), cfg: cfg, want: []string{"/e1", "/e2", "bundled"}, from: "$" + PluginDirEnv},
		{name: "flags before all, each a path list", flags: []string{"/f1", list("/f2", "/f3")}, env: "/e1", cfg: cfg, want: []string{"/f1", "/f2", "/f3", "bundled"}, from: "--plugin-dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(PluginDirEnv, tt.env)
			sp := PluginPath(tt.flags, tt.cfg)
			var got []string
			for i, d := range sp {
				if d.Bundled != (i == len(sp)-1) {
					t.Errorf("directory %d %+v: only the last is the bundled one", i, d)
				}
				if d.Bundled {
					if d.Path != BundledPluginDir() {
						t.Errorf("bundled directory %s, want %s", d.Path, BundledPluginDir())
					}
					got = append(got, "bundled")
					continue
				}
				got = append(got, d.Path)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("PluginPath = %v, want %v", got, tt.want)
			}
			if tt.from != "" && sp[0].From != tt.from {
				t.Errorf("first directory from %q, want %q", sp[0].From, tt.from)
			}
		})
	}
}
