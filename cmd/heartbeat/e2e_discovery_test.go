//go:build unix

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// discoveryTree makes root/parent/plugins (all 0755) holding copies of the
// named bundled plugins, and returns root and the plugin directory.
func discoveryTree(t *testing.T, bins binaries, names ...string) (root, dir string) {
	t.Helper()
	root = t.TempDir()
	dir = filepath.Join(root, "parent", "plugins")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{root, filepath.Dir(dir), dir} {
		chmod(t, p, 0o755)
	}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(bins.pluginDir, "heartbeat-target-"+name))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "heartbeat-target-"+name)
		if err := os.WriteFile(path, data, 0o755); err != nil {
			t.Fatal(err)
		}
		chmod(t, path, 0o755)
	}
	return root, dir
}

// plantScript writes a plugin that only leaves a marker file when run.
func plantScript(t *testing.T, dir, name string, mode os.FileMode) (script, marker string) {
	t.Helper()
	marker = filepath.Join(t.TempDir(), "ran")
	script = filepath.Join(dir, "heartbeat-target-"+name)
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch '"+marker+"'\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	chmod(t, script, mode)
	return script, marker
}

// Listing plugins must not run what run refuses: the reason is shown, the
// binary stays untouched.
func TestPluginsListRefusedWithoutRunningThem(t *testing.T) {
	bins := buildBinaries(t)
	otherSum := sha256.Sum256([]byte("another binary"))
	tests := []struct {
		name string
		// prepare plants heartbeat-target-evil; it returns the config
		// ("" for none) and the marker the plugin leaves when run.
		prepare func(t *testing.T, root, dir string) (config, marker string)
		want    []string
		// logRuns: the log plugin beside it passes and is run.
		logRuns bool
	}{
		{"world-writable binary", func(t *testing.T, _, dir string) (string, string) {
			_, marker := plantScript(t, dir, "evil", 0o777)
			return "", marker
		}, []string{"evil", "refused:", "writable by group or others"}, true},
		{"world-writable plugin directory", func(t *testing.T, _, dir string) (string, string) {
			_, marker := plantScript(t, dir, "evil", 0o755)
			chmod(t, dir, 0o777)
			return "", marker
		}, []string{"evil", "refused:", "writable by group or others"}, false},
		{"plugin directory in a world-writable parent", func(t *testing.T, root, dir string) (string, string) {
			_, marker := plantScript(t, dir, "evil", 0o755)
			chmod(t, filepath.Dir(dir), 0o777)
			return "", marker
		}, []string{"evil", "refused:", "without the sticky bit"}, false},
		{"checksum pin mismatch", func(t *testing.T, _, dir string) (string, string) {
			script, marker := plantScript(t, dir, "evil", 0o755)
			data, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			planted := sha256.Sum256(data)
			cfg := writeConfig(t, "plugins:\n  evil: { sha256: "+hex.EncodeToString(otherSum[:])+" }\n"+
				"targets:\n  console: { plugin: log }\nheartbeats:\n  - { name: a, frequency: every 1 hour, targets: [console] }\n")
			// The new checksum is shown, so the pin can be updated.
			return cfg, marker + "|" + hex.EncodeToString(planted[:])
		}, []string{"evil", "refused: checksum does not match the pin"}, true},
		{"config that does not load", func(t *testing.T, _, dir string) (string, string) {
			_, marker := plantScript(t, dir, "evil", 0o755)
			return writeConfig(t, "targets: [\n"), marker
		}, []string{"evil", "not run: the config does not load"}, false},
	}
	for _, tt := range tests {
		for _, cmd := range [][]string{{"plugins", "--sha256"}, {"version", "--plugins"}} {
			t.Run(tt.name+"/"+strings.Join(cmd, " "), func(t *testing.T) {
				root, dir := discoveryTree(t, bins, "log")
				cfg, marker := tt.prepare(t, root, dir)
				marker, wantSum, _ := strings.Cut(marker, "|")
				args := append(append([]string{}, cmd...), "--plugin-dir", dir)
				if cfg != "" {
					args = append(args, "--config", cfg)
				}
				stdout, stderr, code := runCLI(t, bins, nil, args...)
				if _, err := os.Stat(marker); err == nil {
					t.Errorf("heartbeat %s ran the refused plugin", strings.Join(cmd, " "))
				}
				if code != exitFailed {
					t.Errorf("exit %d, want %d", code, exitFailed)
				}
				want := tt.want
				if wantSum != "" && cmd[0] == "plugins" {
					want = append(want, wantSum)
				}
				for _, w := range want {
					if !strings.Contains(stdout, w) {
						t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", w, stdout, stderr)
					}
				}
				if tt.logRuns {
					// The usable plugin beside it still runs and shows its version.
					if line := lineStarting(stdout, "log "); line == "" || strings.Contains(line, " - ") || strings.Contains(line, "error") {
						t.Errorf("the log plugin is not listed with its version:\n%s", stdout)
					}
				}
			})
		}
	}
}

func TestPluginsReportNotExecutable(t *testing.T) {
	bins := buildBinaries(t)
	_, dir := discoveryTree(t, bins, "log")
	script, marker := plantScript(t, dir, "noexec", 0o644)
	stdout, stderr, code := runCLI(t, bins, nil, "plugins", "--plugin-dir", dir)
	if code != exitFailed || !strings.Contains(stdout, "noexec") || !strings.Contains(stdout, "not executable: run chmod +x "+script) {
		t.Errorf("exit %d (want %d), want noexec reported as not executable\nstdout:\n%s\nstderr:\n%s", code, exitFailed, stdout, stderr)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the plugin ran")
	}
}

// The opt-out runs what the permission check would refuse.
func TestPluginsInsecurePermissionsOptOut(t *testing.T) {
	bins := buildBinaries(t)
	_, dir := discoveryTree(t, bins, "log")
	chmod(t, dir, 0o777)
	cfg := writeConfig(t, "insecure_plugin_permissions: true\ntargets:\n  console: { plugin: log }\nheartbeats:\n  - { name: a, frequency: every 1 hour, targets: [console] }\n")
	stdout, stderr, code := runCLI(t, bins, nil, "plugins", "--plugin-dir", dir, "--config", cfg)
	if code != exitOK || strings.Contains(stdout, "refused") {
		t.Errorf("exit %d, want the log plugin listed\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// A plugin directory is refused when a directory above it lets others
// replace it, and accepted below a sticky one such as /tmp.
func TestValidateChecksParentsOfThePluginDirectory(t *testing.T) {
	bins := buildBinaries(t)
	config := "targets:\n  console: { plugin: log }\nheartbeats:\n  - { name: a, frequency: every 1 hour, targets: [console] }\n"
	tests := []struct {
		name     string
		mode     os.FileMode
		insecure bool
		wantCode int
		want     string
	}{
		{"world-writable parent", 0o777, false, exitInvalid, "without the sticky bit"},
		{"group-writable parent", 0o775, false, exitInvalid, "without the sticky bit"},
		{"sticky world-writable parent", os.ModeSticky | 0o777, false, exitOK, "is valid"},
		{"world-writable parent with the opt-out", 0o777, true, exitOK, "is valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dir := discoveryTree(t, bins, "log")
			chmod(t, filepath.Dir(dir), tt.mode)
			c := config
			if tt.insecure {
				c = "insecure_plugin_permissions: true\n" + c
			}
			stdout, stderr, code := runCLI(t, bins, nil, "validate", "--config", writeConfig(t, c), "--plugin-dir", dir)
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d (want %d), output lacks %q?\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, tt.want, stdout, stderr)
			}
		})
	}
}

// lineStarting returns the first line of s that starts with prefix.
func lineStarting(s, prefix string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}

// Every invalid setting of a target is reported by one validate, whatever
// its kind: unknown, wrong type, missing, invalid value.
func TestValidateReportsEverySettingAtOnce(t *testing.T) {
	bins := buildBinaries(t)
	cfg := writeConfig(t, `targets:
  web:
    plugin: http
    config:
      remoteURL: https://status.example.com/ping
      timeout: soon
      method: DELETE
      follow_redirects: anywhere
heartbeats:
  - { name: a, frequency: every 1 hour, targets: [web] }
`)
	stdout, stderr, code := runCLI(t, bins, nil, "validate", "--config", cfg, "--plugin-dir", bins.pluginDir)
	if code != exitInvalid {
		t.Errorf("exit %d, want %d", code, exitInvalid)
	}
	for _, want := range []string{
		":5:7: target \"web\" (plugin http): setting remoteURL: unknown setting",
		":6:7: target \"web\" (plugin http): setting timeout:",
		":7:7: target \"web\" (plugin http): setting method:",
		":8:7: target \"web\" (plugin http): setting follow_redirects:",
		"target \"web\" (plugin http): setting url: is required",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", want, stdout, stderr)
		}
	}
	if n := strings.Count(stderr, "error: "); n != 5 {
		t.Errorf("%d errors, want 5:\n%s", n, stderr)
	}
}
