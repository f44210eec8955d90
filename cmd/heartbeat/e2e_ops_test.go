//go:build unix

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// copyPluginDir copies the built plugins into a fresh directory the test
// may change.
func copyPluginDir(t *testing.T, bins binaries, names ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "plugins")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(bins.pluginDir, "heartbeat-target-"+name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "heartbeat-target-"+name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestPluginPinningAndPermissions(t *testing.T) {
	bins := buildBinaries(t)
	goodSum := fileSum(t, filepath.Join(bins.pluginDir, "heartbeat-target-log"))
	badSum := strings.Repeat("ab", 32)
	config := func(extra string) string {
		return extra + "\ntargets:\n  console: { plugin: log }\nheartbeats:\n  - { name: a, frequency: every 1 hour, targets: [console] }\n"
	}
	outside := t.TempDir()
	tests := []struct {
		name     string
		config   string
		prepare  func(t *testing.T, dir string)
		wantCode int
		want     string
	}{
		{"pinned checksum matches", config("plugins:\n  log: { sha256: " + goodSum + " }"), nil, exitOK, "is valid"},
		{"pinned checksum differs", config("plugins:\n  log: { sha256: " + badSum + " }"), nil, exitInvalid, "does not match the sha256 pinned"},
		{"group-writable directory", config(""), func(t *testing.T, dir string) { chmod(t, dir, 0o775) }, exitInvalid, "writable by group or others"},
		{"world-writable binary", config(""), func(t *testing.T, dir string) { chmod(t, filepath.Join(dir, "heartbeat-target-log"), 0o757) }, exitInvalid, "writable by group or others"},
		{"symlink out of the directory", config(""), func(t *testing.T, dir string) {
			target := filepath.Join(outside, "heartbeat-target-log")
			if err := os.Rename(filepath.Join(dir, "heartbeat-target-log"), target); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(dir, "heartbeat-target-log")); err != nil {
				t.Fatal(err)
			}
		}, exitInvalid, "outside the plugin directory"},
		{"opt-out accepts a group-writable directory", config("insecure_plugin_permissions: true"), func(t *testing.T, dir string) { chmod(t, dir, 0o775) }, exitOK, "is valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyPluginDir(t, bins, "log")
			if tt.prepare != nil {
				tt.prepare(t, dir)
			}
			cfg := writeConfig(t, tt.config)
			stdout, stderr, code := runCLI(t, bins, nil, "validate", "--config", cfg, "--plugin-dir", dir)
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("exit %d (want %d), output lacks %q?\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, tt.want, stdout, stderr)
			}
		})
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// metricValue reads one sample from a Prometheus text exposition.
func metricValue(exposition, series string) (float64, bool) {
	for _, line := range strings.Split(exposition, "\n") {
		if strings.HasPrefix(line, series+" ") {
			v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(line, series)), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// Metrics scraped from a running daemon count known successes and
// failures; /healthz turns 503 while a plugin is down and 200 once it is
// back.
func TestMetricsAndHealth(t *testing.T) {
	bins := buildBinaries(t)
	ok := newRecorder(t, http.StatusOK)
	failing := newRecorder(t, http.StatusNotFound) // not retried: one attempt per beat
	addr := freeAddr(t)
	cfg := writeConfig(t, fmt.Sprintf(`
listen: %s
targets:
  good: { plugin: http, config: { url: "%s/ok" } }
  bad: { plugin: http, config: { url: "%s/missing" } }
  console: { plugin: log }
heartbeats:
  - { name: svc, frequency: every 1 sec, targets: [good, bad] }
  - { name: other, frequency: every 1 hour, targets: [console] }
`, addr, ok.srv.URL, failing.srv.URL))
	d := startDaemon(t, bins, "--config", cfg)
	waitFor(t, 20*time.Second, "three beats", func() bool { return len(ok.snapshot()) >= 3 })
	waitFor(t, 10*time.Second, "/healthz to answer 200", func() bool { code, _ := get(t, "http://"+addr+"/healthz"); return code == http.StatusOK })

	// A beat is counted once its answer is back, a moment after the server
	// saw it: wait for the counts, then compare them with what the servers
	// saw by then (never fewer than counted).
	var body string
	var delivered, failed float64
	waitFor(t, 10*time.Second, "three delivered and three failed beats in /metrics", func() bool {
		_, body = get(t, "http://"+addr+"/metrics")
		delivered, _ = metricValue(body, `heartbeat_beats_total{heartbeat="svc",reason="",result="delivered",signal="success",target="good"}`)
		failed, _ = metricValue(body, `heartbeat_beats_total{heartbeat="svc",reason="not_found",result="failed",signal="success",target="bad"}`)
		return delivered >= 3 && failed >= 3
	})
	okHits, badHits := len(ok.snapshot()), len(failing.snapshot())
	if delivered > float64(okHits) || failed > float64(badHits) {
		t.Errorf("metrics say %v delivered, %v failed; servers saw %d and %d\n%s", delivered, failed, okHits, badHits, grepLines(body, "heartbeat_beats_total"))
	}
	if v, found := metricValue(body, `heartbeat_last_success_timestamp_seconds{heartbeat="svc",target="good"}`); !found || time.Since(time.Unix(int64(v), 0)) > 10*time.Second {
		t.Errorf("last success timestamp %v (found %v)", v, found)
	}
	if _, found := metricValue(body, `heartbeat_last_success_timestamp_seconds{heartbeat="svc",target="bad"}`); found {
		t.Error("a target that never accepted a beat has a last-success time")
	}
	for _, want := range []string{`heartbeat_plugin_up{plugin="http"} 1`, `heartbeat_plugin_up{plugin="log"} 1`, "heartbeat_delivery_duration_seconds_bucket", "heartbeat_build_info{"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, "/missing") || strings.Contains(body, ok.srv.URL) {
		t.Error("metrics expose a target URL")
	}

	// Kill the log plugin: /healthz reports it, then the restart brings 200 back.
	logPid := 0
	for _, pid := range pluginProcesses(t, bins.pluginDir) {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if strings.HasSuffix(exe, "heartbeat-target-log") {
			logPid = pid
		}
	}
	if logPid == 0 {
		t.Fatal("log plugin process not found")
	}
	_ = syscall.Kill(logPid, syscall.SIGKILL)
	var unhealthy string
	waitFor(t, 5*time.Second, "/healthz to answer 503", func() bool {
		code, body := get(t, "http://"+addr+"/healthz")
		unhealthy = body
		return code == http.StatusServiceUnavailable
	})
	if !strings.Contains(unhealthy, `"reason"`) || !strings.Contains(unhealthy, "log") {
		t.Errorf("503 body %q does not say which plugin is down", unhealthy)
	}
	waitFor(t, 15*time.Second, "/healthz to answer 200 after the restart", func() bool { code, _ := get(t, "http://"+addr+"/healthz"); return code == http.StatusOK })
	_, body = get(t, "http://"+addr+"/metrics")
	if v, _ := metricValue(body, `heartbeat_plugin_restarts_total{plugin="log"}`); v != 1 {
		t.Errorf("plugin restarts = %v, want 1", v)
	}
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// Settings may come from files (<name>_file), read at start and reload.
func TestSecretFromFile(t *testing.T) {
	bins := buildBinaries(t)
	server := newRecorder(t, http.StatusOK)
	secret := filepath.Join(t.TempDir(), "url")
	if err := os.WriteFile(secret, []byte(server.srv.URL+"/from-file-0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  web: { plugin: http, config: { url_file: %q } }
heartbeats:
  - { name: a, frequency: every 1 hour, targets: [web] }
`, secret))
	stdout, stderr, code := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", bins.pluginDir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if hits := server.snapshot(); len(hits) != 1 || hits[0].path != "/from-file-0123456789abcdef" {
		t.Errorf("requests %+v", hits)
	}
	if regexp.MustCompile(`from-file-0123456789abcdef`).MatchString(stdout + stderr) {
		t.Errorf("output shows the secret:\n%s%s", stdout, stderr)
	}
}

// The core runs on one CPU unless GOMAXPROCS says otherwise; its plugins
// are not told to.
func TestCoreGOMAXPROCS(t *testing.T) {
	bins := buildBinaries(t)
	for _, tc := range []struct {
		name, env string
		want      float64
	}{
		{"unset: one CPU", "", 1},
		{"set by the user", "GOMAXPROCS=2", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := freeAddr(t)
			cfg := writeConfig(t, fmt.Sprintf(`
listen: %s
targets:
  console: { plugin: log }
heartbeats:
  - { name: svc, frequency: every 1 hour, targets: [console] }
`, addr))
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "GOMAXPROCS=") {
					env = append(env, kv)
				}
			}
			if tc.env != "" {
				env = append(env, tc.env)
			}
			d := startDaemonEnv(t, bins, env, "--config", cfg)
			defer d.stop(t, syscall.SIGTERM)
			var body string
			waitFor(t, 20*time.Second, "/metrics to answer", func() bool {
				code, b := get(t, "http://"+addr+"/metrics")
				body = b
				return code == http.StatusOK
			})
			if got, found := metricValue(body, "go_sched_gomaxprocs_threads"); !found || got != tc.want {
				t.Errorf("go_sched_gomaxprocs_threads = %v (found %v), want %v", got, found, tc.want)
			}
			for _, pid := range pluginProcesses(t, bins.pluginDir) {
				environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
				if err != nil {
					continue // not Linux, or gone
				}
				has := strings.Contains("\x00"+string(environ), "\x00GOMAXPROCS=")
				if has != (tc.env != "") {
					t.Errorf("plugin %d has GOMAXPROCS in its environment: %v, want %v", pid, has, tc.env != "")
				}
			}
		})
	}
}
