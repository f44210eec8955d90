package config

import (
	"slices"
	"strings"
	"testing"
)

func TestPluginDirs(t *testing.T) {
	const rest = `
targets:
  web: { plugin: http, config: { url: "https://example.com/ping" } }
heartbeats:
  - { name: svc, frequency: every 1 minute, targets: [web] }
`
	tests := []struct {
		name string
		src  string
		vars map[string]string
		want []string
		err  []string // substrings of the error; none: no error
	}{
		{name: "none", src: ""},
		{name: "plugin_dir is a one-element list", src: "plugin_dir: ./plugins\n", want: []string{"/etc/heartbeat/plugins"}},
		{name: "plugin_dirs in order", src: "plugin_dirs: [/opt/hb/plugins, ./mine, ../shared]\n",
			want: []string{"/opt/hb/plugins", "/etc/heartbeat/mine", "/etc/shared"}},
		{name: "block list with a variable", src: "plugin_dirs:\n  - ${DIR}\n  - /b\n", vars: map[string]string{"DIR": "/a"}, want: []string{"/a", "/b"}},
		{name: "an optional entry left empty is skipped", src: "plugin_dirs: [\"${EXTRA:-}\", /b]\n", want: []string{"/b"}},
		{name: "both keys", src: "plugin_dir: /a\nplugin_dirs: [/b]\n", err: []string{"heartbeat.yaml:1:1", "plugin_dir and plugin_dirs are both set", "move this directory into the plugin_dirs list"}},
		{name: "not a list", src: "plugin_dirs: /a:/b\n", err: []string{"heartbeat.yaml:1:14", "plugin_dirs must be a list", "plugin_dirs: [/opt/heartbeat/plugins]"}},
		{name: "an entry that is not text", src: "plugin_dirs: [/a, {x: 1}]\n", err: []string{"plugin_dirs must be a text value"}},
		{name: "a typo", src: "plugin_dir5: [/a]\n", err: []string{"plugin_dirs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("/etc/heartbeat/heartbeat.yaml", []byte(tt.src+rest), env(tt.vars))
			if len(tt.err) > 0 {
				if err == nil {
					t.Fatalf("no error; PluginDirs = %q", cfg.PluginDirs)
				}
				for _, w := range tt.err {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfg.PluginDirs, tt.want) {
				t.Errorf("PluginDirs = %q, want %q", cfg.PluginDirs, tt.want)
			}
		})
	}
}
