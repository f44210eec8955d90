//go:build unix

package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// installLayout is heartbeat installed with its bundled plugins (bin/ and
// bin/plugins/) plus a user plugin directory (mine/), in a fresh
// directory the test may change.
type installLayout struct {
	root, core, bundled, mine string
}

func newInstallLayout(t *testing.T, bins binaries) installLayout {
	t.Helper()
	root := t.TempDir()
	l := installLayout{root: root, core: filepath.Join(root, "bin", "heartbeat"), bundled: filepath.Join(root, "bin", "plugins"), mine: filepath.Join(root, "mine")}
	for _, d := range []string{l.bundled, l.mine} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_ = os.Chmod(filepath.Join(root, "bin"), 0o755)
	_ = os.Chmod(root, 0o755)
	copyExecutable(t, bins.core, l.core)
	for _, name := range []string{"http", "log"} {
		copyExecutable(t, filepath.Join(bins.pluginDir, "heartbeat-target-"+name), filepath.Join(l.bundled, "heartbeat-target-"+name))
	}
	return l
}

// copyExecutable puts a copy of src at dst as an installer does: a new
// file renamed over the old one, so a running process keeps its file.
func copyExecutable(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".new~"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// buildStamp builds the stamp test plugin with version v.
func buildStamp(t *testing.T, out, v string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-ldflags", "-X github.com/seed-e9b80cf6/heartbeat/plugins/sdk.version="+v, "-o", out, "./cmd/heartbeat/testdata/stamp")
	cmd.Dir = repoRoot(t)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build stamp: %v\n%s", err, b)
	}
}

// A user plugin directory adds to the bundled plugins instead of hiding
// them; `heartbeat plugins` shows which file each name resolves to and
// what it shadows, from the flag, the environment and the config alike.
func TestPluginSearchPath(t *testing.T) {
	bins := buildBinaries(t)
	l := newInstallLayout(t, bins)
	buildStamp(t, filepath.Join(l.mine, "heartbeat-target-stamp"), "1.0.0-stamp")
	copyExecutable(t, filepath.Join(bins.pluginDir, "heartbeat-target-log"), filepath.Join(l.mine, "heartbeat-target-log"))
	mineLog, bundledLog := filepath.Join(l.mine, "heartbeat-target-log"), filepath.Join(l.bundled, "heartbeat-target-log")

	cfgWith := func(dirs string) string {
		path := filepath.Join(l.root, "heartbeat.yaml")
		content := dirs + "\ntargets:\n  console: { plugin: log }\nheartbeats:\n  - { name: a, frequency: every 1 hour, targets: [console] }\n"
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	tests := []struct {
		name string
		env  []string
		args []string
	}{
		{"flag", nil, []string{"--plugin-dir", l.mine}},
		{"flag given twice", nil, []string{"--plugin-dir", l.mine, "--plugin-dir", filepath.Join(l.root, "empty")}},
		{"environment path list", []string{"HEARTBEAT_PLUGIN_DIR=" + l.mine + string(filepath.ListSeparator) + filepath.Join(l.root, "empty")}, nil},
		{"config, relative to the config file", nil, []string{"--config", cfgWith("plugin_dirs: [./mine, ./empty]")}},
		{"config plugin_dir", nil, []string{"--config", cfgWith("plugin_dir: mine")}},
	}
	if err := os.Mkdir(filepath.Join(l.root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"HEARTBEAT_CONFIG=", "HEARTBEAT_PLUGIN_DIR="}, tt.env...)
			stdout, stderr, code := runCLI(t, binaries{core: l.core}, env, append([]string{"plugins"}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			lines := map[string][]string{}
			for _, line := range strings.Split(stdout, "\n") {
				if f := strings.Fields(line); len(f) > 0 {
					lines[f[0]] = append(lines[f[0]], line)
				}
			}
			want := map[string][]string{
				"stamp": {"1.0.0-stamp", filepath.Join(l.mine, "heartbeat-target-stamp")},
				"http":  {"success,fail", filepath.Join(l.bundled, "heartbeat-target-http")},
			}
			for name, parts := range want {
				if len(lines[name]) != 1 {
					t.Errorf("%d lines for %s, want 1:\n%s", len(lines[name]), name, stdout)
					continue
				}
				for _, p := range parts {
					if !strings.Contains(lines[name][0], p) {
						t.Errorf("%s line %q lacks %q", name, lines[name][0], p)
					}
				}
				if strings.Contains(lines[name][0], "shadow") {
					t.Errorf("%s shadows nothing: %q", name, lines[name][0])
				}
			}
			if got := lines["log"]; len(got) != 2 ||
				!strings.Contains(got[0], mineLog+" (shadows bundled log at "+bundledLog+")") ||
				!strings.Contains(got[1], "shadowed by "+mineLog) || !strings.HasSuffix(strings.TrimSpace(got[1]), bundledLog) {
				t.Errorf("log lines do not show the shadowing:\n%s", strings.Join(got, "\n"))
			}
			if !strings.Contains(stdout, "searched in this order") || !strings.Contains(stdout, l.mine+" (") || !strings.Contains(stdout, l.bundled+" (bundled)") {
				t.Errorf("the directories searched are not listed:\n%s", stdout)
			}
		})
	}

	// An unknown plugin: the error names every directory searched.
	_, stderr, code := runCLI(t, binaries{core: l.core}, nil, "validate", "--plugin-dir", l.mine, "--config",
		writeConfig(t, "targets:\n  x: { plugin: nope }\nheartbeats:\n  - { name: a, frequency: every 1 hour, targets: [x] }\n"))
	if code != exitInvalid || !strings.Contains(stderr, `unknown plugin "nope"`) || !strings.Contains(stderr, l.mine+", "+l.bundled+" (searched in this order)") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	// Both keys in the config: refused, saying which to keep.
	_, stderr, code = runCLI(t, binaries{core: l.core}, nil, "validate", "--config", cfgWith("plugin_dir: mine\nplugin_dirs: [mine]"))
	if code != exitInvalid || !strings.Contains(stderr, "plugin_dir and plugin_dirs are both set") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// A user plugin and a bundled one serve one daemon together; a user plugin
// replaced on disk is started again on SIGHUP (new process, new version)
// while beats go on, and a replacement that does not match its pin is
// refused with the old process still beating.
func TestPluginReplacedOnDiskIsPickedUpOnSIGHUP(t *testing.T) {
	bins := buildBinaries(t)
	l := newInstallLayout(t, bins)
	stampPath := filepath.Join(l.mine, "heartbeat-target-stamp")
	builds := t.TempDir()
	v1, v2 := filepath.Join(builds, "v1"), filepath.Join(builds, "v2")
	buildStamp(t, v1, "1.0.0-stamp")
	buildStamp(t, v2, "2.0.0-stamp")
	copyExecutable(t, v1, stampPath)

	web := newRecorder(t, http.StatusOK)
	stamps := filepath.Join(t.TempDir(), "stamps")
	cfgPath := filepath.Join(l.root, "heartbeat.yaml")
	writeCfg := func(extra string) {
		content := fmt.Sprintf(`plugin_dirs: [mine]
%s
targets:
  stamp: { plugin: stamp, config: { path: %q } }
  web: { plugin: http, config: { url: "%s/beat" } }
heartbeats:
  - { name: svc, frequency: every 1 sec, targets: [stamp, web] }
`, extra, stamps, web.srv.URL)
		if err := os.WriteFile(cfgPath, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg("")
	d := startInstalledDaemon(t, l.core, "--config", cfgPath, "--log-level", "debug")
	stamped := func(version string) int {
		data, _ := os.ReadFile(stamps)
		return strings.Count(string(data), version+" svc ")
	}
	waitFor(t, 30*time.Second, "beats to the user plugin and the bundled one", func() bool {
		return stamped("1.0.0-stamp") >= 2 && len(web.snapshot()) >= 2
	})
	stampPid := func() int {
		pids := pluginProcesses(t, l.mine)
		if len(pids) != 1 {
			return 0
		}
		return pids[0]
	}
	first := stampPid()
	if first == 0 {
		t.Fatalf("no single stamp process: %v", pluginProcesses(t, l.mine))
	}

	// Replaced on disk, then SIGHUP: the new binary runs.
	copyExecutable(t, v2, stampPath)
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 30*time.Second, "the new binary to take over", func() bool {
		return strings.Contains(d.stderr.String(), "plugin binary replaced") && strings.Contains(d.stderr.String(), "2.0.0-stamp")
	})
	webBefore := len(web.snapshot())
	waitFor(t, 30*time.Second, "beats from the new binary, and to the bundled plugin", func() bool {
		return stamped("2.0.0-stamp") >= 2 && len(web.snapshot()) >= webBefore+2
	})
	waitFor(t, 10*time.Second, "the old stamp process to exit", func() bool { return processGoneE2E(first) })
	second := stampPid()
	if second == 0 || second == first {
		t.Errorf("stamp process %d after the replacement, was %d", second, first)
	}
	if strings.Contains(d.stderr.String(), "config reload rejected") {
		t.Errorf("the reload was rejected:\n%s", d.stderr.String())
	}

	// Pin the running binary (accepted: it matches), then replace it with
	// one that does not match: the reload is rejected and the running
	// process keeps beating.
	writeCfg(fmt.Sprintf("plugins: { stamp: { sha256: %s } }", fileSum(t, v2)))
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 30*time.Second, "the pinned config to be reloaded", func() bool {
		return strings.Count(d.stderr.String(), "config reloaded") >= 2
	})
	copyExecutable(t, v1, stampPath)
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 30*time.Second, "the reload to be rejected", func() bool {
		return strings.Contains(d.stderr.String(), "config reload rejected") && strings.Contains(d.stderr.String(), "checksum does not match the pin")
	})
	v1Before, v2Before := stamped("1.0.0-stamp"), stamped("2.0.0-stamp")
	waitFor(t, 30*time.Second, "the old process to keep beating", func() bool { return stamped("2.0.0-stamp") >= v2Before+2 })
	if got := stampPid(); got != second {
		t.Errorf("stamp process %d after the refused replacement, want %d still", got, second)
	}
	if n := stamped("1.0.0-stamp"); n != v1Before {
		t.Errorf("the refused binary delivered %d beats", n-v1Before)
	}
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// startInstalledDaemon runs `heartbeat run` from an install layout, with
// no --plugin-dir: the plugin path is the config's and the bundled one.
func startInstalledDaemon(t *testing.T, core string, args ...string) *daemonProcess {
	t.Helper()
	cmd := exec.Command(core, append([]string{"run"}, args...)...)
	cmd.Env = append(os.Environ(), "HEARTBEAT_PLUGIN_DIR=")
	d := &daemonProcess{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = d.stderr, d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-d.done
		if t.Failed() {
			t.Logf("daemon output:\n%s", d.stderr.String())
		}
	})
	return d
}

func processGoneE2E(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return os.IsNotExist(err)
}
