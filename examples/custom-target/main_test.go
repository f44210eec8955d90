package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The plugin, built from this separate module, is dropped into a plugin
// directory next to the bundled log plugin and driven by the real core.
func TestCustomPluginWithRealCore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	_, file, _, _ := runtime.Caller(0)
	here := filepath.Dir(file)
	repo := filepath.Join(here, "..", "..")
	dir := t.TempDir()
	pluginDir := filepath.Join(dir, "plugins")
	build := func(out, pkg, wd string) {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Dir = wd
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	build(filepath.Join(pluginDir, "heartbeat-target-file"), ".", here)
	build(filepath.Join(dir, "heartbeat"), "./cmd/heartbeat", repo)
	// heartbeat refuses plugins that group or others may write.
	for _, p := range []string{pluginDir, filepath.Join(pluginDir, "heartbeat-target-file")} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	journal := filepath.Join(dir, "beats.log")
	cfg := filepath.Join(dir, "heartbeat.yaml")
	if err := os.WriteFile(cfg, []byte(`
targets:
  journal:
    plugin: file
    config: { path: "`+journal+`" }
heartbeats:
  - { name: custom, frequency: every 1 second, targets: [journal] }
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(filepath.Join(dir, "heartbeat"), "run", "--config", cfg, "--plugin-dir", pluginDir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		data, _ := os.ReadFile(journal)
		if strings.Count(string(data), " custom success #") >= 3 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Errorf("heartbeat exited with %v\n%s", err, out.String())
	}
	data, _ := os.ReadFile(journal)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 3 || !strings.HasSuffix(lines[0], "custom success #1") || !strings.HasSuffix(lines[2], "custom success #3") {
		t.Errorf("journal:\n%s\ndaemon output:\n%s", data, out.String())
	}
}
