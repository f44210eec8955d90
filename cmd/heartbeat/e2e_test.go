//go:build unix

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
)

// recorder is an HTTP server on 127.0.0.1 that records each request.
type recorder struct {
	srv    *httptest.Server
	mu     sync.Mutex
	hits   []hit
	status int
}

type hit struct {
	at        time.Time
	method    string
	path      string
	userAgent string
}

func newRecorder(t *testing.T, status int) *recorder {
	r := &recorder{status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.hits = append(r.hits, hit{at: time.Now(), method: req.Method, path: req.URL.Path, userAgent: req.UserAgent()})
		status := r.status
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte("answer"))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) snapshot() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

// The core beats once at start-up and then on the later.js schedule, through
// the real http plugin process, and stops cleanly on SIGTERM.
func TestDaemonDeliversBeatsOnScheduleAndStopsCleanly(t *testing.T) {
	bins := buildBinaries(t)
	server := newRecorder(t, http.StatusOK)
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  web:
    plugin: http
    config:
      url: %s/ping/secret-token-0123456789
heartbeats:
  - name: every-second
    frequency: every 1 sec
    targets: [web]
`, server.srv.URL))
	started := time.Now()
	d := startDaemon(t, bins, "--config", cfg)
	waitFor(t, 20*time.Second, "five beats", func() bool { return len(server.snapshot()) >= 5 })
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	hits := server.snapshot()
	first := hits[0]
	if first.at.Sub(started) > 10*time.Second {
		t.Errorf("start-up beat came %s after start", first.at.Sub(started))
	}
	// After the start-up beat, each beat follows later.js's setInterval rule:
	// for every 1 sec, the start's time plus whole seconds. The start-up
	// beat's own fire time is not seen here, and any arrival may be late on
	// a loaded machine, so the chain is anchored at the least late beat:
	// every beat is then on it, none early, none a period late.
	sched, err := schedule.Parse("every 1 sec")
	if err != nil {
		t.Fatal(err)
	}
	anchor := first.at
	for k, h := range hits[:5] {
		if at := h.at.Add(-time.Duration(k) * time.Second); at.Before(anchor) {
			anchor = at
		}
	}
	want := anchor
	for i, h := range hits[1:5] {
		next, ok := sched.NextFire(want)
		if !ok {
			t.Fatal("schedule never fires")
		}
		if diff := h.at.Sub(next); diff < -50*time.Millisecond || diff > maxLateness {
			t.Errorf("beat %d at %s, want about %s (diff %s)", i+2, h.at.Format("15:04:05.000"), next.Format("15:04:05.000"), diff)
		}
		want = next
	}
	for _, h := range hits {
		if h.method != http.MethodGet || h.path != "/ping/secret-token-0123456789" {
			t.Errorf("request %s %s, want GET /ping/secret-token-0123456789", h.method, h.path)
		}
		if !strings.HasPrefix(h.userAgent, "heartbeat/") {
			t.Errorf("User-Agent %q, want heartbeat/<version>", h.userAgent)
		}
	}
	if strings.Contains(d.stderr.String(), "secret-token-0123456789") {
		t.Errorf("the log shows the secret URL:\n%s", d.stderr.String())
	}
	if pids := pluginProcesses(t, bins.pluginDir); len(pids) > 0 {
		t.Errorf("plugin processes still running after exit: %v", pids)
	}
}

// A core killed with SIGKILL leaves no plugin process behind.
func TestPluginsExitWhenCoreIsKilled(t *testing.T) {
	bins := buildBinaries(t)
	server := newRecorder(t, http.StatusOK)
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  web: { plugin: http, config: { url: "%s/ping" } }
  console: { plugin: log }
heartbeats:
  - { name: a, frequency: every 1 minute, targets: [web, console] }
`, server.srv.URL))
	d := startDaemon(t, bins, "--config", cfg)
	waitFor(t, 20*time.Second, "the start-up beat", func() bool { return len(server.snapshot()) >= 1 })
	if pids := pluginProcesses(t, bins.pluginDir); len(pids) < 2 {
		t.Fatalf("want 2 plugin processes running, found %v", pids)
	}
	_ = d.cmd.Process.Kill()
	<-d.done
	waitFor(t, 10*time.Second, "plugin processes to exit", func() bool { return len(pluginProcesses(t, bins.pluginDir)) == 0 })
}

func TestSendReportsFailureAndExitsNonZero(t *testing.T) {
	bins := buildBinaries(t)
	failing := newRecorder(t, http.StatusInternalServerError)
	working := newRecorder(t, http.StatusNoContent)
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  broken: { plugin: http, config: { url: "%s/hc/abcdef0123456789" }, retries: 1, retry_backoff: 10ms }
  fine: { plugin: http, config: { url: "%s/ok" } }
heartbeats:
  - { name: svc, frequency: every 1 hour, targets: [broken, fine] }
`, failing.srv.URL, working.srv.URL))
	stdout, stderr, code := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", bins.pluginDir)
	if code != exitFailed {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitFailed, stdout, stderr)
	}
	for _, want := range []string{"FAIL svc -> broken", "500 Internal Server Error", "2 attempt(s)", "ok   svc -> fine: 204 No Content"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout+stderr, "abcdef0123456789") {
		t.Errorf("output shows the secret path:\n%s%s", stdout, stderr)
	}
	if n := len(failing.snapshot()); n != 2 {
		t.Errorf("failing server got %d requests, want 2 (1 retry)", n)
	}
}

func TestValidateReportsErrorsWithPosition(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name   string
		config string
		want   []string
	}{
		{"unknown key", "targets:\n  web: { plugin: log }\nheartbeats:\n  - name: a\n    frequncy: every 1 hour\n    targets: [web]\n",
			[]string{":5:5:", `unknown key "frequncy"`, `did you mean "frequency"`}},
		{"missing target", "targets:\n  web: { plugin: log }\nheartbeats:\n  - { name: a, frequency: every 1 hour, targets: [webb] }\n",
			[]string{":4:51:", `unknown target "webb"`, `did you mean "web"`}},
		{"unknown plugin", "targets:\n  web: { plugin: nosuch }\nheartbeats:\n  - { name: a, frequency: every 1 hour, targets: [web] }\n",
			[]string{":2:3:", `unknown plugin "nosuch"`, "available plugins:", "http"}},
		{"bad indentation", "targets:\n  web:\n    plugin: log\n   config: {}\nheartbeats: []\n",
			[]string{":4:", "invalid YAML"}},
		{"missing env var", "targets:\n  web: { plugin: http, config: { url: \"https://x.example/${NO_SUCH_VAR_E2E}\" } }\nheartbeats:\n  - { name: a, frequency: every 1 hour, targets: [web] }\n",
			[]string{":2:", "NO_SUCH_VAR_E2E is not set"}},
		{"bad frequency", "targets:\n  web: { plugin: log }\nheartbeats:\n  - name: a\n    frequency: every 5 minz\n    targets: [web]\n",
			[]string{":5:", "position 8", "^"}},
		{"bad plugin setting", "targets:\n  web:\n    plugin: http\n    config:\n      url: ftp://example.com/\nheartbeats:\n  - { name: a, frequency: every 1 hour, targets: [web] }\n",
			[]string{":5:7:", "setting url", "http:// or https://"}},
		{"unknown plugin setting", "targets:\n  web:\n    plugin: http\n    config:\n      url: https://example.com/\n      methd: GET\nheartbeats:\n  - { name: a, frequency: every 1 hour, targets: [web] }\n",
			[]string{":6:7:", "setting methd", "unknown setting"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeConfig(t, tt.config)
			stdout, stderr, code := runCLI(t, bins, nil, "validate", "--config", cfg, "--plugin-dir", bins.pluginDir)
			if code != exitInvalid {
				t.Errorf("exit code %d, want %d", code, exitInvalid)
			}
			if !strings.Contains(stderr, cfg) {
				t.Errorf("error does not name the file %s:\n%s", cfg, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("error lacks %q:\n%s%s", w, stdout, stderr)
				}
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
				t.Errorf("crashed:\n%s", stderr)
			}
		})
	}
}

func TestValidateAcceptsBundledExamples(t *testing.T) {
	bins := buildBinaries(t)
	examples, _ := filepath.Glob(filepath.Join(repoRoot(t), "examples", "*.yaml"))
	if len(examples) == 0 {
		t.Fatal("no example configs")
	}
	env := []string{"HC_CHECK_UUID=5b1c7a4e-0d3f-4a5b-9c8d-7e6f5a4b3c2d", "KUMA_TOKEN=AbCdEfGh12", "KUMA_URL=http://127.0.0.1:3001"}
	for _, ex := range examples {
		t.Run(filepath.Base(ex), func(t *testing.T) {
			stdout, stderr, code := runCLI(t, bins, env, "validate", "--config", ex, "--plugin-dir", bins.pluginDir)
			if code != exitOK {
				t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if !strings.Contains(stdout, "is valid") {
				t.Errorf("output:\n%s", stdout)
			}
		})
	}
}

// A Butler SOS config file drives a beat to its remoteURL, with the
// frequency it declares.
func TestButlerSOSConfigBeatsRemoteURL(t *testing.T) {
	bins := buildBinaries(t)
	server := newRecorder(t, http.StatusOK)
	example, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "butler-sos.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^(\s+)enable: false(\s+# heartbeat)?\n(\s+)remoteURL: .*$`)
	if !re.Match(example) {
		t.Fatal("examples/butler-sos.yaml: heartbeat section not found")
	}
	edited := re.ReplaceAll(example, []byte("${1}enable: true\n${3}remoteURL: "+server.srv.URL+"/butler"))
	cfg := writeConfig(t, string(edited))
	stdout, stderr, code := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", bins.pluginDir)
	if code != exitOK {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	hits := server.snapshot()
	if len(hits) != 1 || hits[0].path != "/butler" || hits[0].method != http.MethodGet {
		t.Errorf("requests %+v, want one GET /butler", hits)
	}
}

func TestPluginRunByHandExplainsItself(t *testing.T) {
	bins := buildBinaries(t)
	cmd := exec.Command(filepath.Join(bins.pluginDir, "heartbeat-target-http"))
	cmd.Env = []string{}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Error("exit code 0, want non-zero")
	}
	for _, want := range []string{"heartbeat target plugin", "plugin directory", "plugin: http"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "goroutine") {
		t.Errorf("output is a stack trace:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"version"}, []string{"heartbeat ", "commit ", "go1."}},
		{[]string{"version", "--plugins", "--plugin-dir", bins.pluginDir}, []string{"heartbeat ", "NAME", "healthchecks", "uptimekuma", "http", "log"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, stderr, code := runCLI(t, bins, nil, tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, stdout)
				}
			}
		})
	}
}

func TestPluginsListsBundledPlugins(t *testing.T) {
	bins := buildBinaries(t)
	stdout, stderr, code := runCLI(t, bins, nil, "plugins", "--plugin-dir", bins.pluginDir, "--sha256")
	if code != exitOK {
		t.Fatalf("exit code %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"http", "log", "success,fail", "plugin directory: " + bins.pluginDir} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if !regexp.MustCompile(`[0-9a-f]{64}`).MatchString(stdout) {
		t.Errorf("--sha256 printed no checksum:\n%s", stdout)
	}
}
