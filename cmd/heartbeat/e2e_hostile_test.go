//go:build unix

package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Hostile plugins, built with the SDK from testdata/hostile: the core keeps
// every other heartbeat running, answers health checks and signals, and
// bounds what such a plugin makes it log or hold.

// callTimeout mirrors pluginhost.DefaultCallTimeout: waits below allow
// several of it.
const callTimeout = 10 * time.Second

var hostileOnce struct {
	sync.Once
	path string
	err  error
}

// hostilePlugins returns a new plugin directory holding the log plugin and
// the hostile test plugin under each of names.
func hostilePlugins(t *testing.T, bins binaries, names ...string) string {
	t.Helper()
	hostileOnce.Do(func() {
		hostileOnce.path = filepath.Join(filepath.Dir(bins.core), "hostile-plugin")
		cmd := exec.Command("go", "build", "-o", hostileOnce.path, "./cmd/heartbeat/testdata/hostile")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			hostileOnce.err = fmt.Errorf("building the hostile plugin: %v\n%s", err, out)
		}
	})
	if hostileOnce.err != nil {
		t.Fatal(hostileOnce.err)
	}
	dir := copyPluginDir(t, bins, "log")
	data, err := os.ReadFile(hostileOnce.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, "heartbeat-target-"+name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// countLines counts the lines of out holding every one of parts.
func countLines(out string, parts ...string) int {
	n := 0
	for _, line := range strings.Split(out, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			n++
		}
	}
	return n
}

// healthAnswers reports whether /healthz answers at all (200 or 503)
// within a generous client deadline.
func healthAnswers(addr string) bool {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusServiceUnavailable
}

// A plugin that hangs in Configure at start-up: the other heartbeat beats,
// /healthz answers, the stuck target is reported once and its beats fail
// as temporary; SIGTERM stops the daemon, even during start-up.
func TestHostilePluginHangsInConfigureAtStartup(t *testing.T) {
	bins := buildBinaries(t)
	t.Parallel()
	dir := hostilePlugins(t, bins, "hostile")
	core := binaries{core: bins.core, pluginDir: dir}

	t.Run("running", func(t *testing.T) {
		addr := freeAddr(t)
		cfg := writeConfig(t, `
listen: `+addr+`
targets:
  console: { plugin: log }
  stuck: { plugin: hostile, config: { hang_configure: true } }
heartbeats:
  - { name: fine, frequency: every 1 second, targets: [console] }
  - { name: blocked, frequency: every 1 second, targets: [stuck] }
`)
		d := startDaemon(t, core, "--config", cfg)
		waitFor(t, 20*time.Second, "/healthz to answer during start-up", func() bool { return healthAnswers(addr) })
		waitFor(t, 6*callTimeout, "beats of the other heartbeat", func() bool { return len(loggedBeats(d.stderr.String(), "fine")) >= 3 })
		if !healthAnswers(addr) {
			t.Errorf("/healthz does not answer while a target waits for its plugin")
		}
		waitFor(t, 3*callTimeout, "a failed beat to the stuck target", func() bool {
			return countLines(d.stderr.String(), "beat not delivered", "stuck", "not ready") > 0
		})
		out := d.stderr.String()
		if n := countLines(out, "[ERROR]", "target not ready", "stuck"); n != 1 {
			t.Errorf("the stuck target is reported %d times at error level, want once", n)
		}
		if n := countLines(out, "beat not delivered", "stuck", "reason=temporary"); n == 0 {
			t.Errorf("beats to the stuck target are not failed as temporary")
		}
		if code := d.stop(t, syscall.SIGTERM); code != exitOK {
			t.Errorf("exit code %d after SIGTERM, want %d", code, exitOK)
		}
	})

	t.Run("SIGTERM during start-up", func(t *testing.T) {
		// Five stuck targets keep start-up busy for five call timeouts.
		addr := freeAddr(t)
		cfg := `
listen: ` + addr + `
targets:
`
		var names []string
		for i := range 5 {
			cfg += fmt.Sprintf("  stuck%d: { plugin: hostile, config: { hang_configure: true, detail_bytes: %d } }\n", i, i)
			names = append(names, fmt.Sprintf("stuck%d", i))
		}
		cfg += "heartbeats:\n  - { name: blocked, frequency: every 1 second, targets: [" + strings.Join(names, ", ") + "] }\n"
		d := startDaemon(t, core, "--config", writeConfig(t, cfg))
		waitFor(t, 20*time.Second, "/healthz to answer during start-up", func() bool { return healthAnswers(addr) })
		if code := d.stop(t, syscall.SIGTERM); code != exitOK {
			t.Errorf("exit code %d after SIGTERM, want %d", code, exitOK)
		}
		if out := d.stderr.String(); !strings.Contains(out, "stopped during start-up") {
			t.Errorf("the daemon did not stop during start-up:\n%s", out)
		}
		if pids := pluginProcesses(t, dir); len(pids) > 0 {
			t.Errorf("plugin processes left: %v", pids)
		}
	})

	t.Run("validate", func(t *testing.T) {
		cfg := writeConfig(t, `
targets:
  stuck: { plugin: hostile, config: { hang_configure: true } }
heartbeats:
  - { name: blocked, frequency: every 1 hour, targets: [stuck] }
`)
		_, stderr, code := runCLI(t, core, nil, "validate", "--plugin-dir", dir, "--config", cfg)
		if code != exitInvalid || !strings.Contains(stderr, "did not answer Configure") {
			t.Errorf("validate = exit %d, stderr:\n%s\nwant exit %d naming the timeout", code, stderr, exitInvalid)
		}
	})
}

// A plugin that hangs in Configure on reload: the reload is rejected,
// logged and counted, and the next reload works.
func TestHostilePluginHangsOnReload(t *testing.T) {
	bins := buildBinaries(t)
	t.Parallel()
	dir := hostilePlugins(t, bins, "hostile")
	addr := freeAddr(t)
	config := func(settings, level string) string {
		return `
listen: ` + addr + `
targets:
  console: { plugin: log, config: { level: ` + level + ` } }
  x: { plugin: hostile, config: { ` + settings + ` } }
heartbeats:
  - { name: fine, frequency: every 1 second, targets: [console] }
  - { name: other, frequency: every 1 hour, targets: [x] }
`
	}
	cfg := writeConfig(t, config("detail_bytes: 1", "info"))
	d := startDaemon(t, binaries{core: bins.core, pluginDir: dir}, "--config", cfg)
	waitFor(t, 30*time.Second, "first beats", func() bool { return len(loggedBeats(d.stderr.String(), "fine")) >= 1 })
	metric := func(series string) float64 {
		_, body := get(t, "http://"+addr+"/metrics")
		v, _ := metricValue(body, series)
		return v
	}

	if err := os.WriteFile(cfg, []byte(config("hang_configure: true", "info")), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 6*callTimeout, "the reload to be rejected", func() bool {
		return strings.Contains(d.stderr.String(), "config reload rejected")
	})
	if !strings.Contains(d.stderr.String(), "did not answer Configure") {
		t.Errorf("the rejection does not name the timeout:\n%s", d.stderr.String())
	}
	if v := metric(`heartbeat_config_reloads_total{result="failure"}`); v != 1 {
		t.Errorf("failed reloads = %v, want 1", v)
	}
	if v := metric("heartbeat_config_last_reload_successful"); v != 0 {
		t.Errorf("last reload successful = %v, want 0", v)
	}

	if err := os.WriteFile(cfg, []byte(config("detail_bytes: 2", "warn")), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 6*callTimeout, "the next reload to be applied", func() bool {
		return strings.Contains(d.stderr.String(), "config reloaded")
	})
	if v := metric(`heartbeat_config_reloads_total{result="success"}`); v != 1 {
		t.Errorf("successful reloads = %v, want 1", v)
	}
	before := len(loggedBeats(d.stderr.String(), "fine"))
	waitFor(t, 30*time.Second, "beats after the reload", func() bool { return len(loggedBeats(d.stderr.String(), "fine")) > before })
	if code := d.stop(t, syscall.SIGTERM); code != exitOK {
		t.Errorf("exit code %d after SIGTERM", code)
	}
}

// A plugin that hangs in Configure after a restart holds up neither the
// healthy target of the same heartbeat nor /healthz and /metrics.
func TestHostilePluginHangsAfterRestart(t *testing.T) {
	bins := buildBinaries(t)
	t.Parallel()
	dir := hostilePlugins(t, bins, "hostile")
	addr := freeAddr(t)
	flag := filepath.Join(t.TempDir(), "started")
	cfg := writeConfig(t, `
listen: `+addr+`
targets:
  console: { plugin: log }
  sticky: { plugin: hostile, config: { hang_after_restart: "`+flag+`" } }
heartbeats:
  - { name: both, frequency: every 1 second, targets: [console, sticky] }
`)
	core := binaries{core: bins.core, pluginDir: dir}
	d := startDaemon(t, core, "--config", cfg)
	waitFor(t, 30*time.Second, "first beats", func() bool { return len(loggedBeats(d.stderr.String(), "both")) >= 2 })
	if err := syscall.Kill(onePluginPid(t, core, "hostile"), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the restart to hang", func() bool {
		return strings.Contains(d.stderr.String(), "plugin process exited unexpectedly")
	})
	// Over two call timeouts the plugin's restarts hang; beats to the
	// healthy target go on, and /healthz and /metrics answer throughout.
	before := len(loggedBeats(d.stderr.String(), "both"))
	end := time.Now().Add(2 * callTimeout)
	unanswered := 0
	for time.Now().Before(end) {
		if !healthAnswers(addr) {
			unanswered++
		}
		client := http.Client{Timeout: 5 * time.Second}
		if resp, err := client.Get("http://" + addr + "/metrics"); err != nil {
			unanswered++
		} else {
			_ = resp.Body.Close()
		}
		time.Sleep(500 * time.Millisecond)
	}
	if unanswered > 0 {
		t.Errorf("/healthz or /metrics did not answer %d times while the plugin hung", unanswered)
	}
	// About 20 beats are due; a loaded machine delivers far more than 5.
	if got := len(loggedBeats(d.stderr.String(), "both")) - before; got < 5 {
		t.Errorf("%d beats reached the healthy target in %s while the other plugin hung", got, 2*callTimeout)
	}
	if n := countLines(d.stderr.String(), "skipped"); n > 2 {
		t.Errorf("%d ticks skipped while the plugin hung", n)
	}
}

// A 50 MB Detail and a Detail of control characters: the core's log stays
// small and its memory sane; the beat still reports a result.
func TestHostilePluginHugeDetail(t *testing.T) {
	bins := buildBinaries(t)
	t.Parallel()
	dir := hostilePlugins(t, bins, "hostile", "wordy")
	cfg := writeConfig(t, `
targets:
  huge: { plugin: hostile, config: { detail_bytes: 50000000 } }
  long: { plugin: wordy, config: { detail_bytes: 100000 } }
heartbeats:
  - { name: big, frequency: every 5 seconds, targets: [huge, long] }
`)
	d := startDaemon(t, binaries{core: bins.core, pluginDir: dir}, "--config", cfg, "--log-level", "debug")
	// Making 50 MB takes the plugin a while on a loaded machine: beats
	// come every 5 s to leave it time.
	waitFor(t, 90*time.Second, "beats with a bounded detail and the oversized answer refused", func() bool {
		out := d.stderr.String()
		return countLines(out, "beat delivered", "long") >= 2 && countLines(out, "huge", "more than 1048576 bytes") >= 1
	})
	out := d.stderr.String()
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 8<<10 {
			t.Errorf("a log line of %d bytes: %.200s...", len(line), line)
			break
		}
		if strings.Contains(line, "\x1b") {
			t.Errorf("a control character reached the log: %q", line)
			break
		}
	}
	if len(out) > 2<<20 {
		t.Errorf("the core logged %d bytes", len(out))
	}
	rss, _, err := procMemory(d.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if rss > 200<<20 {
		t.Errorf("core RSS %d MiB", rss>>20)
	}
}

// A plugin flooding its stderr: the core's log stays bounded and says how
// many lines it dropped; other heartbeats beat.
func TestHostilePluginLogFlood(t *testing.T) {
	bins := buildBinaries(t)
	t.Parallel()
	dir := hostilePlugins(t, bins, "hostile")
	cfg := writeConfig(t, `
targets:
  console: { plugin: log }
  loud: { plugin: hostile, config: { flood: true } }
heartbeats:
  - { name: fine, frequency: every 1 second, targets: [console] }
  - { name: noisy, frequency: every 1 hour, targets: [loud] }
`)
	d := startDaemon(t, binaries{core: bins.core, pluginDir: dir}, "--config", cfg)
	waitFor(t, 60*time.Second, "the dropped lines to be reported", func() bool {
		return strings.Contains(d.stderr.String(), "lines from plugin hostile")
	})
	waitFor(t, 30*time.Second, "beats of the other heartbeat", func() bool { return len(loggedBeats(d.stderr.String(), "fine")) >= 2 })
	if code := d.stop(t, syscall.SIGTERM); code != exitOK {
		t.Errorf("exit code %d after SIGTERM", code)
	}
	out := d.stderr.String()
	// 500 lines of burst and 50 a second over well under a minute.
	if n := countLines(out, "flood"); n > 500+50*120 {
		t.Errorf("%d flood lines reached the log", n)
	}
	if len(out) > 4<<20 {
		t.Errorf("the core logged %d bytes", len(out))
	}
	if n := countLines(out, "dropped", "lines from plugin hostile"); n < 1 {
		t.Errorf("no report of dropped lines")
	}
}

// A binary swapped for one that does not match its pin: refused, said once
// at error level, not retried until the file changes again.
func TestHostilePluginPinMismatch(t *testing.T) {
	bins := buildBinaries(t)
	t.Parallel()
	dir := hostilePlugins(t, bins, "hostile")
	path := filepath.Join(dir, "heartbeat-target-hostile")
	original, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, `
plugins:
  hostile: { sha256: `+fileSum(t, path)+` }
targets:
  x: { plugin: hostile }
heartbeats:
  - { name: a, frequency: every 1 second, targets: [x] }
`)
	core := binaries{core: bins.core, pluginDir: dir}
	d := startDaemon(t, core, "--config", cfg)
	waitFor(t, 30*time.Second, "the start", func() bool { return strings.Contains(d.stderr.String(), "heartbeat started") && pidOf(t, dir) > 0 })
	replace := func(data []byte) {
		tmp := path + ".new"
		if err := os.WriteFile(tmp, data, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	replace(append(append([]byte{}, original...), 0))
	if err := syscall.Kill(pidOf(t, dir), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the refusal", func() bool {
		return strings.Contains(d.stderr.String(), "checksum does not match the pin")
	})
	// Beats every second and the supervisor would try again many times.
	time.Sleep(5 * time.Second)
	out := d.stderr.String()
	if n := countLines(out, "[ERROR]", "checksum does not match the pin"); n != 1 {
		t.Errorf("the refusal is logged %d times at error level, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "heartbeat plugins --sha256") {
		t.Errorf("the refusal does not say how to update the pin")
	}
	if strings.Contains(out, "plugin restarted") {
		t.Errorf("a refused binary was started")
	}
	replace(original)
	waitFor(t, 60*time.Second, "the restored binary to start", func() bool {
		return strings.Contains(d.stderr.String(), "plugin restarted")
	})
}

// pidOf is the pid of the one plugin process started from dir, 0 if none.
func pidOf(t *testing.T, dir string) int {
	for _, pid := range pluginProcesses(t, dir) {
		exe, _ := os.Readlink(filepath.Join("/proc", fmt.Sprint(pid), "exe"))
		if strings.Contains(exe, "hostile") {
			return pid
		}
	}
	return 0
}

// A plugin's descendant in a session of its own, reparented away from the
// plugin, ends when the core stops.
func TestHostilePluginOrphanEndsWithTheCore(t *testing.T) {
	bins := buildBinaries(t)
	t.Parallel()
	dir := hostilePlugins(t, bins, "hostile")
	marker := fmt.Sprintf("orphan-%d", time.Now().UnixNano())
	cfg := writeConfig(t, `
targets:
  x: { plugin: hostile, config: { orphan: `+marker+` } }
heartbeats:
  - { name: a, frequency: every 1 hour, targets: [x] }
`)
	d := startDaemon(t, binaries{core: bins.core, pluginDir: dir}, "--config", cfg)
	t.Cleanup(func() {
		for _, pid := range processesWithArg(marker) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	waitFor(t, 30*time.Second, "the orphan to run", func() bool { return len(processesWithArg(marker)) > 0 })
	if code := d.stop(t, syscall.SIGTERM); code != exitOK {
		t.Errorf("exit code %d after SIGTERM", code)
	}
	waitFor(t, 10*time.Second, "the orphan to end", func() bool { return len(processesWithArg(marker)) == 0 })
}

// A plugin over its memory limit is ended and restarted, the log says it
// hit the limit, and the core and the other heartbeat are fine.
func TestHostilePluginMemoryLimit(t *testing.T) {
	bins := buildBinaries(t)
	t.Parallel()
	dir := hostilePlugins(t, bins, "hostile")
	cfg := writeConfig(t, `
plugins:
  hostile: { memory_limit: 128MiB }
targets:
  console: { plugin: log }
  hog: { plugin: hostile, config: { allocate: true } }
heartbeats:
  - { name: fine, frequency: every 1 second, targets: [console] }
  - { name: greedy, frequency: every 1 second, targets: [hog] }
`)
	d := startDaemon(t, binaries{core: bins.core, pluginDir: dir}, "--config", cfg)
	waitFor(t, 60*time.Second, "the plugin to hit its limit and restart", func() bool {
		out := d.stderr.String()
		return strings.Contains(out, "memory limit") && strings.Contains(out, "plugin restarted")
	})
	before := len(loggedBeats(d.stderr.String(), "fine"))
	waitFor(t, 30*time.Second, "beats of the other heartbeat", func() bool { return len(loggedBeats(d.stderr.String(), "fine")) > before })
	if rss, _, err := procMemory(d.cmd.Process.Pid); err != nil || rss > 200<<20 {
		t.Errorf("core RSS %d MiB (%v)", rss>>20, err)
	}
	if code := d.stop(t, syscall.SIGTERM); code != exitOK {
		t.Errorf("exit code %d after SIGTERM", code)
	}
}

// A plugin over its CPU limit is killed and restarted, and the log says so.
func TestHostilePluginCPULimit(t *testing.T) {
	bins := buildBinaries(t)
	t.Parallel()
	dir := hostilePlugins(t, bins, "hostile")
	cfg := writeConfig(t, `
plugins:
  hostile: { cpu_limit: 1s }
targets:
  spinner: { plugin: hostile, config: { spin: true } }
heartbeats:
  - { name: busy, frequency: every 1 second, targets: [spinner] }
`)
	d := startDaemon(t, binaries{core: bins.core, pluginDir: dir}, "--config", cfg)
	waitFor(t, 60*time.Second, "the plugin to hit its limit and restart", func() bool {
		out := d.stderr.String()
		return strings.Contains(out, "reached its CPU limit") && strings.Contains(out, "plugin restarted")
	})
	if code := d.stop(t, syscall.SIGTERM); code != exitOK {
		t.Errorf("exit code %d after SIGTERM", code)
	}
}

// A plugin whose Info.Name is not its file's name is refused.
func TestHostilePluginMisnamed(t *testing.T) {
	bins := buildBinaries(t)
	t.Parallel()
	dir := hostilePlugins(t, bins, "misnamed")
	cfg := writeConfig(t, `
targets:
  x: { plugin: misnamed }
heartbeats:
  - { name: a, frequency: every 1 hour, targets: [x] }
`)
	_, stderr, code := runCLI(t, binaries{core: bins.core, pluginDir: dir}, nil, "validate", "--plugin-dir", dir, "--config", cfg)
	if code != exitInvalid || !strings.Contains(stderr, `says its name is "not-my-file"`) || !strings.Contains(stderr, "rename the file") {
		t.Errorf("validate = exit %d, stderr:\n%s", code, stderr)
	}
}
