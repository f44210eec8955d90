//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A plugin file that is there but cannot be run is reported as such, with
// the fix, not as a missing plugin.
func TestValidateNotExecutablePlugin(t *testing.T) {
	bins := buildBinaries(t)
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(filepath.Join(bins.pluginDir, "heartbeat-target-log"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "heartbeat-target-log"), bin, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, `
targets:
  console: { plugin: log }
heartbeats:
  - { name: a, frequency: every 1 hour, targets: [console] }
`)
	_, stderr, code := runCLI(t, bins, nil, "validate", "--config", cfg, "--plugin-dir", dir)
	if code != exitInvalid {
		t.Errorf("exit %d, want %d", code, exitInvalid)
	}
	for _, want := range []string{"heartbeat.yaml:3:", `plugin "log" cannot be used`, "not executable", "chmod +x"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "unknown plugin") {
		t.Errorf("a plugin that is there is called unknown:\n%s", stderr)
	}
}

// A secret file that cannot be read is reported together with the
// plugin's own verdict on the other settings, in one run of validate, and
// without the plugin's consequential "url is required".
func TestValidateSecretFileErrorsWithSettingErrors(t *testing.T) {
	bins := buildBinaries(t)
	cfg := writeConfig(t, `
targets:
  web:
    plugin: http
    config:
      url_file: /nonexistent/secret-url
      method: DELETE
heartbeats:
  - { name: a, frequency: every 1 hour, targets: [web] }
`)
	_, stderr, code := runCLI(t, bins, nil, "validate", "--config", cfg, "--plugin-dir", bins.pluginDir)
	if code != exitInvalid {
		t.Errorf("exit %d, want %d", code, exitInvalid)
	}
	for _, want := range []string{"heartbeat.yaml:6:", "setting url_file: cannot read the secret file", "heartbeat.yaml:7:", "setting method:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "setting url:") {
		t.Errorf("the missing url is reported although its file is the cause:\n%s", stderr)
	}
}
