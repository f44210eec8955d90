//go:build unix

package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// copyPlugin copies a bundled plugin into dir, mode 0755.
func copyPlugin(t *testing.T, bins binaries, name, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bins.pluginDir, "heartbeat-target-"+name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "heartbeat-target-"+name)
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(path, 0o755)
	return path
}

func TestPluginsCheckPassesBundledPlugins(t *testing.T) {
	bins := buildBinaries(t)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"log", nil, "PASS beat.deadline"},
		{"http", []string{"--settings", `{"url": "` + srv.URL + `/ping"}`}, "PASS beat.live: delivered (200 OK)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"plugins", "check", filepath.Join(bins.pluginDir, "heartbeat-target-"+tc.name)}, tc.args...)
			stdout, stderr, code := runCLI(t, bins, nil, args...)
			if code != exitOK || !strings.Contains(stdout, tc.want) || strings.Contains(stdout, "\nFAIL ") {
				t.Fatalf("exit %d, want 0 and %q\nstdout:\n%s\nstderr:\n%s", code, tc.want, stdout, stderr)
			}
			for _, check := range []string{"handshake", "info.name", "configure.errors", "beat.unconfigured", "beat.concurrent", "beat.stream", "stdout", "exit.host-death"} {
				if !strings.Contains(stdout, "PASS "+check+":") {
					t.Errorf("no PASS %s:\n%s", check, stdout)
				}
			}
		})
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the --settings URL got %d beats, want the one live beat", n)
	}
}

func TestPluginsCheckFailsALeakingPlugin(t *testing.T) {
	bins := buildBinaries(t)
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o755)
	path := filepath.Join(dir, "heartbeat-target-leak")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.mode=leak", "-o", path, "./core/conformance/testdata/misbehave")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the test plugin: %v\n%s", err, out)
	}
	_ = os.Chmod(path, 0o755)
	stdout, stderr, code := runCLI(t, bins, nil, "plugins", "check", path)
	if code != exitFailed || !strings.Contains(stdout, "FAIL secret.describe:") {
		t.Fatalf("exit %d, want 1 and FAIL secret.describe\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func TestPluginsCheckRefusesWhatRunRefuses(t *testing.T) {
	bins := buildBinaries(t)
	open := t.TempDir()
	path := copyPlugin(t, bins, "log", open)
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	pinned := t.TempDir()
	_ = os.Chmod(pinned, 0o755)
	pinnedPath := copyPlugin(t, bins, "log", pinned)
	cfg := writeConfig(t, "plugins:\n  log:\n    sha256: "+strings.Repeat("ab", 32)+
		"\ntargets:\n  console:\n    plugin: log\nheartbeats:\n  - name: demo\n    frequency: every 5 seconds\n    targets: [console]\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no path", []string{"plugins", "check"}, exitInvalid, "missing PATH"},
		{"settings not JSON", []string{"plugins", "check", path, "--settings", "url=x"}, exitInvalid, "--settings must be a JSON object"},
		{"directory", []string{"plugins", "check", open}, exitInvalid, "is a directory"},
		{"writable by others", []string{"plugins", "check", path}, exitInvalid, "--insecure"},
		{"insecure", []string{"plugins", "check", "--insecure", path}, exitOK, ""},
		{"pinned name outside the plugin directories", []string{"plugins", "check", "--config", cfg, "--plugin-dir", pinned, "--insecure", path}, exitOK, ""},
		{"pin mismatch", []string{"plugins", "check", "--config", cfg, "--plugin-dir", pinned, pinnedPath}, exitInvalid, "checksum does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, bins, nil, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, want %d and %q on stderr\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.want, stdout, stderr)
			}
			if tc.code == exitInvalid && strings.Contains(stdout, "handshake") {
				t.Errorf("the plugin was run:\n%s", stdout)
			}
		})
	}
}
