//go:build unix

package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/cronitor/cronitorfake"
)

// End-to-end tests of the Cronitor target: the real core and the real
// plugin process against the fake telemetry endpoint.

// cronitorFixture is a fake Cronitor account with one telemetry key.
type cronitorFixture struct {
	srv *cronitorfake.Server
	key string
}

func newCronitorFixture(t *testing.T) cronitorFixture {
	t.Helper()
	srv := cronitorfake.New(t, cronitorfake.Config{})
	return cronitorFixture{srv: srv, key: srv.AddKey(cronitorfake.NewKey(), true)}
}

// assertNoCronitorKey fails when the key appears in out.
func assertNoCronitorKey(t *testing.T, out, key string) {
	t.Helper()
	if strings.Contains(out, key) {
		t.Errorf("output shows the API key:\n%s", out)
	}
}

func TestCronitorDaemonBeats(t *testing.T) {
	bins := buildBinaries(t)
	f := newCronitorFixture(t)
	keyFile := filepath.Join(t.TempDir(), "cronitor-key")
	if err := os.WriteFile(keyFile, []byte(f.key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  cronitor:
    plugin: cronitor
    config: { base_url: %q, api_key_file: %q, monitor: every-second, environment: staging, host: e2e-host }
heartbeats:
  - name: every-second
    frequency: every 1 sec
    targets: [cronitor]
`, f.srv.BaseURL(), keyFile))
	d := startDaemon(t, bins, "--config", cfg)
	// The start-up beat and two scheduled ones.
	waitFor(t, 30*time.Second, "three events", func() bool { return len(f.srv.Events("every-second")) >= 3 })
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	for i, r := range f.srv.Requests() {
		if r.Method != http.MethodGet || len(r.Body) != 0 || r.Status != http.StatusOK {
			t.Errorf("request %d: %s with %d bytes of body answered %d, want GET without body answered 200", i, r.Method, len(r.Body), r.Status)
		}
		if !strings.HasPrefix(r.UserAgent, "heartbeat/") {
			t.Errorf("request %d: User-Agent %q", i, r.UserAgent)
		}
		e := r.Event
		if e == nil {
			t.Errorf("request %d stored nothing", i)
			continue
		}
		if e.Key != f.key || e.State != cronitorfake.StateComplete || e.Series != "" || e.Host != "e2e-host" || e.Env != "staging" || e.StatusCode != nil {
			t.Errorf("event %d: %+v, want state complete, host e2e-host, env staging, no series nor status code", i, e)
		}
		if _, has := e.Duration(); has || e.Message != "" {
			t.Errorf("event %d: duration or message on a plain beat: %+v", i, e)
		}
	}
	assertNoCronitorKey(t, d.stderr.String(), f.key)
}

// A health-gated heartbeat sends run, then complete or fail with the same
// series, the exit code, the check's duration and the end of its output.
func TestCronitorHealthCheckPairsRun(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name    string
		command string
		end     string
		exit    int
		message []string
	}{
		{"failing check", "echo checking; echo disk full >&2; exit 3", cronitorfake.StateFail, 3, []string{"exited with status 3", "disk full"}},
		{"passing check", "echo all good", cronitorfake.StateComplete, 0, []string{"all good"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newCronitorFixture(t)
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  cronitor: { plugin: cronitor, config: { ping_url: %q } }
heartbeats:
  - name: backup
    frequency: every 1 hour
    targets: [cronitor]
    check: { command: ["sh", "-c", %q], timeout: 20s }
`, f.srv.PingURL(f.key, "backup"), tt.command))
			stdout, stderr, code := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", bins.pluginDir)
			if code != exitOK {
				t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			assertNoCronitorKey(t, stdout+stderr, f.key)
			evs := f.srv.Events("backup")
			if len(evs) != 2 {
				t.Fatalf("%d events, want run + %s: %+v", len(evs), tt.end, evs)
			}
			runs := f.srv.Runs("backup")
			if len(runs) != 1 || runs[0].End == nil || runs[0].Start.Series == "" {
				t.Fatalf("runs %+v, want one run paired with its end by series", runs)
			}
			end := runs[0].End
			if end.State != tt.end || end.StatusCode == nil || *end.StatusCode != tt.exit {
				t.Errorf("end state %q status %v, want %s with status %d", end.State, end.StatusCode, tt.end, tt.exit)
			}
			if d, ok := end.Duration(); !ok || d <= 0 || d > 20 {
				t.Errorf("duration %v (sent %v), want the check's, within its 20s timeout", d, ok)
			}
			for _, w := range tt.message {
				if !strings.Contains(end.Message, w) {
					t.Errorf("message %q lacks %q", end.Message, w)
				}
			}
			if len(end.Message) > 1000 {
				t.Errorf("message of %d bytes", len(end.Message))
			}
		})
	}
}

// A heartbeat monitor gets no run: a failing check sends one fail event.
func TestCronitorHeartbeatMonitor(t *testing.T) {
	bins := buildBinaries(t)
	f := newCronitorFixture(t)
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  cronitor: { plugin: cronitor, config: { base_url: %q, api_key: %q, monitor: alive, monitor_type: heartbeat } }
heartbeats:
  - { name: plain, frequency: every 1 hour, targets: [cronitor] }
  - name: checked
    frequency: every 1 hour
    targets: [cronitor]
    check: { command: ["sh", "-c", "exit 4"] }
`, f.srv.BaseURL(), f.key))
	stdout, stderr, code := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", bins.pluginDir)
	if code != exitOK {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var states []string
	for _, e := range f.srv.Events("alive") {
		states = append(states, e.State)
		if e.State == cronitorfake.StateFail && (e.StatusCode == nil || *e.StatusCode != 4) {
			t.Errorf("fail event %+v, want status_code 4", e)
		}
	}
	if len(states) != 2 || !(states[0] == "" && states[1] == "fail" || states[0] == "fail" && states[1] == "") {
		t.Errorf("states %q, want one plain event and one fail, no run", states)
	}
	assertNoCronitorKey(t, stdout+stderr, f.key)
}

// Answers that are not worth retrying end the beat at once, with the
// kind the core reports.
func TestCronitorSendErrors(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name     string
		status   int
		kind     string
		requests int
	}{
		{"rate limited", http.StatusTooManyRequests, "rate_limited", 1},
		{"no telemetry endpoint", http.StatusNotFound, "permanent", 1},
		{"proxy refuses", http.StatusForbidden, "permanent", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newCronitorFixture(t)
			f.srv.SetOutage(tt.status)
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  cronitor: { plugin: cronitor, config: { base_url: %q, api_key: %q, monitor: m } }
heartbeats:
  - { name: svc, frequency: every 1 hour, targets: [cronitor] }
`, f.srv.BaseURL(), f.key))
			stdout, stderr, code := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", bins.pluginDir)
			if code != exitFailed {
				t.Errorf("exit code %d, want %d", code, exitFailed)
			}
			if !strings.Contains(stdout, "FAIL svc -> cronitor") || !strings.Contains(stdout, tt.kind) || !strings.Contains(stdout, fmt.Sprint(tt.status)) {
				t.Errorf("stdout lacks the failure, its kind %s and the status:\n%s", tt.kind, stdout)
			}
			if n := len(f.srv.Requests()); n != tt.requests {
				t.Errorf("%d requests, want %d", n, tt.requests)
			}
			assertNoCronitorKey(t, stdout+stderr, f.key)
		})
	}
}

// heartbeat exec wraps a job: run before it, fail with its exit code and
// output after it, paired by series.
func TestCronitorExec(t *testing.T) {
	bins := buildBinaries(t)
	f := newCronitorFixture(t)
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  cronitor: { plugin: cronitor, config: { base_url: %q, api_key: %q, monitor: job } }
heartbeats:
  - { name: unused, frequency: every 1 hour, targets: [cronitor] }
`, f.srv.BaseURL(), f.key))
	stdout, stderr, code := runCLI(t, bins, nil, "exec", "--config", cfg, "--plugin-dir", bins.pluginDir, "--target", "cronitor", "--", "sh", "-c", "echo out; exit 3")
	if code != 3 {
		t.Fatalf("exit code %d, want the job's 3\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	assertNoCronitorKey(t, stdout+stderr, f.key)
	runs := f.srv.Runs("job")
	if len(runs) != 1 || runs[0].End == nil {
		t.Fatalf("runs %+v, want one run with its end", runs)
	}
	end := runs[0].End
	if end.State != cronitorfake.StateFail || end.StatusCode == nil || *end.StatusCode != 3 || !strings.Contains(end.Message, "out") {
		t.Errorf("end %+v, want fail with status_code 3 and the output in the message", end)
	}
	if _, ok := end.Duration(); !ok {
		t.Errorf("no duration on %+v", end)
	}
	if n := len(f.srv.Events("job")); n != 2 {
		t.Errorf("%d events, want run and fail", n)
	}
}
