//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A plugin that prints to stdout before its handshake is told so in one
// line, not with go-plugin's generic message.
func TestPluginPrintingBeforeHandshake(t *testing.T) {
	bins := buildBinaries(t)
	dir := filepath.Join(t.TempDir(), "plugins")
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "heartbeat-target-stdoutfirst"), "./cmd/heartbeat/testdata/stdoutfirst")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, p := range []string{dir, filepath.Join(dir, "heartbeat-target-stdoutfirst")} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("plugins", func(t *testing.T) {
		stdout, stderr, code := runCLI(t, bins, []string{"HEARTBEAT_CONFIG="}, "plugins", "--plugin-dir", dir)
		want := `plugin stdoutfirst wrote to stdout before its handshake (first line: "starting the stdoutfirst target"): a plugin must not print to stdout`
		if code == 0 || !strings.Contains(stdout, want) {
			t.Fatalf("exit %d, want non-zero and %q\nstdout:\n%s\nstderr:\n%s", code, want, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, "Unrecognized remote plugin message") {
			t.Errorf("go-plugin's generic message is still shown:\n%s%s", stdout, stderr)
		}
	})
	t.Run("send", func(t *testing.T) {
		cfg := writeConfig(t, `
targets:
  first: { plugin: stdoutfirst }
heartbeats:
  - { name: hb, frequency: every 1 hour, targets: [first] }
`)
		stdout, stderr, code := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", dir, "--heartbeat", "hb")
		if code == 0 || !strings.Contains(stdout+stderr, "wrote to stdout before its handshake") {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
	})
}
