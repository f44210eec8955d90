//go:build unix

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Every rejected reload is counted and turns
// heartbeat_config_last_reload_successful to 0, whatever rejected it: the
// YAML, the config's own checks, the environment or a plugin. A good
// reload sets it back to 1; one that changes listen says it needs a
// restart.
func TestReloadFailuresAreCounted(t *testing.T) {
	bins := buildBinaries(t)
	addr := freeAddr(t)
	good := func(listen string) string {
		return fmt.Sprintf(`
listen: %s
targets:
  console: { plugin: log }
heartbeats:
  - { name: svc, frequency: every 1 hour, targets: [console] }
`, listen)
	}
	path := writeConfig(t, good(addr))
	d := startDaemon(t, bins, "--config", path)
	metrics := "http://" + addr + "/metrics"
	waitFor(t, 20*time.Second, "the metrics endpoint", func() bool { code, _ := get(t, metrics); return code == http.StatusOK })
	scrape := func() (failures, successes, last float64) {
		_, body := get(t, metrics)
		failures, _ = metricValue(body, `heartbeat_config_reloads_total{result="failure"}`)
		successes, _ = metricValue(body, `heartbeat_config_reloads_total{result="success"}`)
		last, _ = metricValue(body, "heartbeat_config_last_reload_successful")
		return
	}
	if _, _, last := scrape(); last != 1 {
		t.Fatalf("last reload successful = %v before any reload, want 1", last)
	}
	reload := func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_ = d.cmd.Process.Signal(syscall.SIGHUP)
	}

	bad := []struct{ name, config string }{
		{"YAML error", "targets: [\n"},
		{"unknown key", good(addr) + "colour: blue\n"},
		{"bad frequency", strings.Replace(good(addr), "every 1 hour", "every 1 hourz", 1)},
		{"unset variable", strings.Replace(good(addr), "plugin: log", "plugin: ${HEARTBEAT_TEST_NEVER_SET}", 1)},
		{"settings the plugin rejects", strings.Replace(good(addr), "{ plugin: log }", "{ plugin: log, config: { level: loud } }", 1)},
	}
	for i, b := range bad {
		reload(b.config)
		want := float64(i + 1)
		var failures, last float64
		waitFor(t, 20*time.Second, fmt.Sprintf("%s: failed reloads to reach %v", b.name, want), func() bool {
			failures, _, last = scrape()
			return failures >= want
		})
		if failures != want || last != 0 {
			t.Errorf("%s: failures = %v, last reload successful = %v; want %v and 0", b.name, failures, last, want)
		}
	}

	reload(good(addr))
	waitFor(t, 20*time.Second, "the good reload to count", func() bool { _, successes, _ := scrape(); return successes >= 1 })
	if failures, successes, last := scrape(); failures != float64(len(bad)) || successes != 1 || last != 1 {
		t.Errorf("after a good reload: failures %v, successes %v, last %v; want %d, 1, 1", failures, successes, last, len(bad))
	}
	if strings.Contains(d.stderr.String(), "needs a restart") {
		t.Error("a reload that kept listen warned that it needs a restart")
	}

	// listen changes only with a restart: the reload says so, and the
	// endpoint stays where it was.
	reload(good(freeAddr(t)))
	waitFor(t, 20*time.Second, "the listen warning", func() bool { return strings.Contains(d.stderr.String(), "needs a restart") })
	if code, _ := get(t, metrics); code != http.StatusOK {
		t.Errorf("the metrics endpoint moved: GET %s = %d", metrics, code)
	}
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// A stray argument is a usage error: `send bad-job` does not send every
// heartbeat.
func TestSendStrayArgumentSendsNothing(t *testing.T) {
	bins := buildBinaries(t)
	server := newRecorder(t, http.StatusOK)
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  web: { plugin: http, config: { url: "%s/ping" } }
heartbeats:
  - { name: job, frequency: every 1 hour, targets: [web] }
`, server.srv.URL))
	stdout, stderr, code := runCLI(t, bins, nil, "send", "bad-job", "--config", cfg, "--plugin-dir", bins.pluginDir)
	if code != exitInvalid || !strings.Contains(stderr, `unexpected argument "bad-job"`) || !strings.Contains(stderr, "--heartbeat NAME") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if hits := server.snapshot(); len(hits) != 0 {
		t.Errorf("%d beats sent", len(hits))
	}
}

// SIGTERM while a health check runs: the check is cut, nothing more is
// sent for that beat (no fail, no success), the log says why and the
// daemon exits 0 without waiting for the check.
func TestShutdownDuringHealthCheck(t *testing.T) {
	bins := buildBinaries(t)
	server := newRecorder(t, http.StatusOK)
	marker := filepath.Join(t.TempDir(), "check-started")
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  web: { plugin: http, config: { url: "%s/ok", fail_url: "%s/fail" } }
heartbeats:
  - name: svc
    frequency: every 1 hour
    targets: [web]
    check: { command: [sh, -c, "touch %s; exec sleep 30"], timeout: 1m }
`, server.srv.URL, server.srv.URL, marker))
	d := startDaemon(t, bins, "--config", cfg)
	waitFor(t, 20*time.Second, "the health check to start", func() bool { _, err := os.Stat(marker); return err == nil })
	stopped := time.Now()
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	// The check would run 30 s and the shutdown grace is 10 s: an exit
	// well before either means the check was cut at once.
	if took := time.Since(stopped); took > 9*time.Second {
		t.Errorf("exit took %s after SIGTERM: the check was not cut", took)
	}
	if hits := server.snapshot(); len(hits) != 0 {
		t.Errorf("requests after a check cut by shutdown: %+v", hits)
	}
	out := d.stderr.String()
	if !strings.Contains(out, "health check cut by shutdown") {
		t.Errorf("the log does not say the check was cut by shutdown:\n%s", out)
	}
	if strings.Contains(out, "did not finish within") || strings.Contains(out, "health check failed") {
		t.Errorf("the cut check was reported as a failure:\n%s", out)
	}
}

// send prints each failure once: in its result table, not also in the log.
func TestSendPrintsEachFailureOnce(t *testing.T) {
	bins := buildBinaries(t)
	server := newRecorder(t, http.StatusNotFound)
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  web: { plugin: http, config: { url: "%s/missing" } }
heartbeats:
  - { name: job, frequency: every 1 hour, targets: [web] }
`, server.srv.URL))
	stdout, stderr, code := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", bins.pluginDir)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	all := stdout + stderr
	if n := strings.Count(all, "404 Not Found"); n != 1 {
		t.Errorf("the failure appears %d times, want once:\nstdout:\n%s\nstderr:\n%s", n, stdout, stderr)
	}
	if !strings.HasPrefix(stdout, "FAIL job -> web:") {
		t.Errorf("stdout %q, want the FAIL line", stdout)
	}
}

// send --dry-run and run --dry-run start and configure the plugins, print
// what would be sent (signals, redacted description, plugin) and send
// nothing; a target no heartbeat uses is warned about at its line.
func TestDryRun(t *testing.T) {
	bins := buildBinaries(t)
	server := newRecorder(t, http.StatusOK)
	const secret = "secret-token-0123456789abcdef"
	checkRan := filepath.Join(t.TempDir(), "check-ran")
	cfg := writeConfig(t, fmt.Sprintf(`targets:
  web: { plugin: http, config: { url: "%s/ping/%s" } }
  console: { plugin: log }
  spare: { plugin: log }
heartbeats:
  - { name: plain, frequency: every 1 hour, targets: [web] }
  - name: checked
    frequency: every 5 minutes
    targets: [console, web]
    check: { command: [touch, "%s"] }
`, server.srv.URL, secret, checkRan))

	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"send", []string{"send", "--dry-run"}, []string{
			"would send plain -> web: success [plugin http: GET " + server.srv.URL + "/…cdef]",
			"would send checked -> console: start, then success or fail by the result of the health check (run touch) [plugin log: log at info]",
			"would send checked -> web: success or fail by the result of the health check (run touch) [plugin http:",
			"(not taken by the target: start)",
			"nothing was sent",
		}},
		{"send one heartbeat", []string{"send", "--dry-run", "--heartbeat", "plain"}, []string{"would send plain -> web: success"}},
		{"run", []string{"run", "--dry-run"}, []string{
			"heartbeat plain: every 1 hour\n  beats: at start-up, ",
			"heartbeat checked: every 5 minutes\n  beats: at start-up, ",
			"  -> web: success [plugin http: GET ",
			"  -> console: start, then success or fail by the result of the health check (run touch)",
			"nothing was sent",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, bins, nil, append(tt.args, "--config", cfg, "--plugin-dir", bins.pluginDir)...)
			if code != exitOK {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, stdout)
				}
			}
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("output shows the secret:\n%s%s", stdout, stderr)
			}
			if hits := server.snapshot(); len(hits) != 0 {
				t.Errorf("%d requests sent by a dry run", len(hits))
			}
			if _, err := os.Stat(checkRan); err == nil {
				t.Error("a dry run ran the health check")
			}
			if tt.args[0] == "run" {
				fires := regexp.MustCompile(`beats: at start-up, (\S+), (\S+), (\S+)\n`).FindAllStringSubmatch(stdout, -1)
				if len(fires) != 2 {
					t.Errorf("want three fire times per heartbeat:\n%s", stdout)
				}
				if !strings.Contains(stderr, fmt.Sprintf("warning: %s:4:3: target \"spare\": no heartbeat uses this target", cfg)) {
					t.Errorf("no warning for the unused target at its line:\n%s", stderr)
				}
			}
		})
	}

	// validate warns about the unused target too, and still passes.
	stdout, stderr, code := runCLI(t, bins, nil, "validate", "--config", cfg, "--plugin-dir", bins.pluginDir)
	if code != exitOK || !strings.Contains(stderr, fmt.Sprintf("warning: %s:4:3: target \"spare\": no heartbeat uses this target", cfg)) {
		t.Errorf("validate: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// JSON log lines give durations as strings, never as an integer count of
// nanoseconds, and a process id is always "pid".
func TestJSONLogDurations(t *testing.T) {
	bins := buildBinaries(t)
	server := newRecorder(t, http.StatusOK)
	failing := newRecorder(t, http.StatusInternalServerError)
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  web: { plugin: http, config: { url: "%s/ok" } }
  bad: { plugin: http, config: { url: "%s/err" }, retries: 1, retry_backoff: 10ms }
  console: { plugin: log }
heartbeats:
  - { name: svc, frequency: every 1 sec, targets: [web, bad] }
  - name: checked
    frequency: every 1 sec
    targets: [console]
    check: { command: [sh, -c, "exit 1"] }
`, server.srv.URL, failing.srv.URL))
	d := startDaemon(t, bins, "--config", cfg, "--log-format", "json", "--log-level", "debug")
	waitFor(t, 20*time.Second, "a few beats", func() bool { return len(server.snapshot()) >= 3 })
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d", code)
	}
	durationKey := regexp.MustCompile(`duration|latency|grace|timeout|backoff|delay|wait|elapsed`)
	sizeKey := regexp.MustCompile(`bytes|size|limit|memory|dropped`)
	seen := map[string]bool{}
	scanner := bufio.NewScanner(strings.NewReader(d.stderr.String()))
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Errorf("not a JSON line: %s", line)
			continue
		}
		for k, v := range fields {
			if k == "id" || k == "process" || k == "process_id" {
				t.Errorf("process id named %q: %s", k, line)
			}
			n, isNumber := v.(float64)
			switch {
			case durationKey.MatchString(k) && isNumber:
				t.Errorf("%s is a number (nanoseconds?): %s", k, line)
			case isNumber && n >= 1e6 && k != "pid" && !sizeKey.MatchString(k):
				t.Errorf("%s = %v looks like nanoseconds: %s", k, v, line)
			case durationKey.MatchString(k):
				if _, err := time.ParseDuration(fmt.Sprint(v)); err == nil {
					seen[k] = true
				}
			}
		}
	}
	for _, k := range []string{"duration", "check_latency"} {
		if !seen[k] {
			t.Errorf("no %s field written as a duration string; log:\n%s", k, d.stderr.String())
		}
	}
}

// The log target's fields come in alphabetical order of their keys on
// every line, as docs/targets/log.md shows them.
func TestLogTargetKeyOrder(t *testing.T) {
	bins := buildBinaries(t)
	cfg := writeConfig(t, `
targets:
  console: { plugin: log }
heartbeats:
  - name: checked
    frequency: every 1 sec
    targets: [console]
    check: { command: ["true"] }
`)
	d := startDaemon(t, bins, "--config", cfg)
	waitFor(t, 20*time.Second, "six beat lines", func() bool { return strings.Count(d.stderr.String(), "beat received:") >= 6 })
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d", code)
	}
	var orders [][]string
	for _, line := range strings.Split(d.stderr.String(), "\n") {
		if _, fields, ok := strings.Cut(line, "beat received: "); ok {
			orders = append(orders, logKeys(fields))
		}
	}
	for _, keys := range orders {
		if !slices.IsSorted(keys) || !slices.Contains(keys, "heartbeat") || !slices.Contains(keys, "signal") {
			t.Errorf("keys %v are not in alphabetical order", keys)
		}
	}

	// The documented example follows the same order.
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "targets", "log.md"))
	if err != nil {
		t.Fatal(err)
	}
	examples := 0
	for _, line := range strings.Split(string(doc), "\n") {
		if _, fields, ok := strings.Cut(line, "beat received: "); ok {
			examples++
			if keys := logKeys(fields); !slices.IsSorted(keys) {
				t.Errorf("docs/targets/log.md shows keys %v, not in the order heartbeat writes them", keys)
			}
		}
	}
	if examples == 0 {
		t.Error("docs/targets/log.md shows no beat line")
	}
}

// logKeys returns the keys of a text log line's key=value fields, in order.
func logKeys(fields string) []string {
	var keys []string
	for _, m := range logFieldRE.FindAllStringSubmatch(fields, -1) {
		keys = append(keys, m[1])
	}
	return keys
}
