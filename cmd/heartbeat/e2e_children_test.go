//go:build unix

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A plugin's own child processes end with it: when the core stops it, and
// when the core is killed.
func TestPluginChildrenDoNotOutliveTheCore(t *testing.T) {
	bins := buildBinaries(t)
	dir := filepath.Join(t.TempDir(), "plugins")
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "heartbeat-target-spawner"), "./cmd/heartbeat/testdata/spawner")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test plugin: %v\n%s", err, out)
	}
	for _, p := range []string{dir, filepath.Join(dir, "heartbeat-target-spawner")} {
		chmod(t, p, 0o755)
	}
	tests := []struct {
		name string
		stop func(d *daemonProcess)
	}{
		{"core stops (SIGTERM)", func(d *daemonProcess) { _ = d.cmd.Process.Signal(syscall.SIGTERM) }},
		{"core killed (SIGKILL)", func(d *daemonProcess) { _ = d.cmd.Process.Kill() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			marker := fmt.Sprintf("spawner-child-%d", time.Now().UnixNano())
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  s: { plugin: spawner, config: { marker: %s } }
heartbeats:
  - { name: a, frequency: every 1 hour, targets: [s] }
`, marker))
			d := startDaemon(t, binaries{core: bins.core, pluginDir: dir}, "--config", cfg)
			waitFor(t, 20*time.Second, "the plugin's child to run", func() bool { return len(processesWithArg(marker)) > 0 })
			t.Cleanup(func() {
				for _, pid := range processesWithArg(marker) {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			tt.stop(d)
			<-d.done
			waitFor(t, 10*time.Second, "the plugin's child to exit", func() bool { return len(processesWithArg(marker)) == 0 })
			if pids := pluginProcesses(t, dir); len(pids) > 0 {
				t.Errorf("plugin processes left: %v", pids)
			}
		})
	}
	_ = os.Remove(dir)
}
