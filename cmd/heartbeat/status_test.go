package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/config"
	"github.com/seed-e9b80cf6/heartbeat/core/status"
)

var statusNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func tptr(t time.Time) *time.Time { return &t }

// statusDoc is a canned status document whose one heartbeat "svc", with
// targets "good" and "bad", is in state.
func statusDoc(state string) status.Snapshot {
	good := status.TargetState{Name: "good", Plugin: "http", LastSignal: "success", LastResult: status.ResultDelivered, LastAt: tptr(statusNow.Add(-50 * time.Second))}
	bad := status.TargetState{Name: "bad", Plugin: "http", LastSignal: "success", LastResult: status.ResultFailed, LastKind: "not_found", LastDetail: "404 Not Found", LastAt: tptr(statusNow.Add(-50 * time.Second))}
	hb := status.Heartbeat{Name: "svc", Frequency: "every 5 minutes", NextBeat: tptr(statusNow.Add(4*time.Minute + 10*time.Second)), State: state}
	switch state {
	case status.StateOK:
		bad.LastResult, bad.LastKind, bad.LastDetail = status.ResultDelivered, "", ""
	case status.StateFailing:
		good = bad
		good.Name = "good"
	case status.StatePending:
		good, bad = status.TargetState{Name: "good", Plugin: "http"}, status.TargetState{Name: "bad", Plugin: "http"}
	}
	hb.Targets = []status.TargetState{good, bad}
	return status.Snapshot{
		Version: status.SchemaVersion, GeneratedAt: statusNow, StartedAt: statusNow.Add(-time.Hour), Ready: true,
		Heartbeats: []status.Heartbeat{hb, {Name: "nightly", Frequency: "at 3:00 am", Timezone: "Europe/Stockholm", NextBeat: tptr(statusNow.Add(20 * time.Hour)), State: status.StatePending, Targets: []status.TargetState{{Name: "console", Plugin: "log"}}}},
		Plugins:    []status.Plugin{{Name: "http", State: status.PluginRunning}, {Name: "log", State: status.PluginRestarting, Restarts: 2, NextRestart: tptr(statusNow.Add(3 * time.Second)), Detail: "exited: signal: killed"}},
	}
}

// statusServer serves /api/v1/status with handle and counts requests.
func statusServer(t *testing.T, handle http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != statusPath {
			http.NotFound(w, r)
			return
		}
		handle(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func serveDoc(doc any) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}
}

func runStatusCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append([]string{"status"}, args...), &out, &errOut)
	return out.String(), errOut.String(), code
}

func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestStatusCommand(t *testing.T) {
	for _, c := range []struct {
		name    string
		handle  http.HandlerFunc
		args    []string
		code    int
		stdout  []string // lines, spaces collapsed
		stderr  string
		noTable bool
	}{
		{
			name: "ok", handle: serveDoc(statusDoc(status.StateOK)), code: exitOK,
			stdout: []string{
				"HEARTBEAT STATE NEXT BEAT TARGET LAST BEAT",
				"svc ok in 4m 10s (09:31:03 UTC) good delivered success, 50s ago",
				"bad delivered success, 50s ago",
				"nightly pending in 20h 0m (2026-03-15 06:26:53 CET) console no beat yet",
				"log restarting 2 exited: signal: killed; next try in 3s",
			},
		},
		{
			name: "failing", handle: serveDoc(statusDoc(status.StateFailing)), code: exitFailed,
			stdout: []string{"svc FAILING in 4m 10s (09:31:03 UTC) good FAILED success, 50s ago: not_found: 404 Not Found", "bad FAILED success, 50s ago: not_found: 404 Not Found"},
		},
		{
			name: "degraded", handle: serveDoc(statusDoc(status.StateDegraded)), code: exitOK,
			stdout: []string{"svc degraded in 4m 10s (09:31:03 UTC) good delivered success, 50s ago", "bad FAILED success, 50s ago: not_found: 404 Not Found"},
		},
		{
			name: "pending", handle: serveDoc(statusDoc(status.StatePending)), code: exitOK,
			stdout: []string{"svc pending in 4m 10s (09:31:03 UTC) good no beat yet", "bad no beat yet"},
		},
		{
			name: "not ready, no plugins down", code: exitOK,
			handle: serveDoc(func() status.Snapshot {
				s := statusDoc(status.StateOK)
				s.Ready, s.Plugins = false, nil
				return s
			}()),
			stdout: []string{"not ready: the daemon is starting, stopping or has a plugin down (as /healthz)"},
		},
		{
			name: "empty", handle: serveDoc(status.Snapshot{Version: 1, GeneratedAt: statusNow, Ready: true}), code: exitOK,
			stdout: []string{"HEARTBEAT STATE NEXT BEAT TARGET LAST BEAT", "(no heartbeats)"},
		},
		{
			name: "401", code: exitInvalid, noTable: true,
			handle: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("WWW-Authenticate", `Basic realm="heartbeat"`)
				http.Error(w, "unauthorized", http.StatusUnauthorized)
			},
			stderr: "refused the request (401 Unauthorized): give --config with the config file whose status credentials the daemon uses",
		},
		{
			name: "403", code: exitInvalid, noTable: true,
			handle: func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusForbidden) },
			stderr: "(403 Forbidden)",
		},
		{
			name: "500", code: exitUnreachable, noTable: true,
			handle: func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "boom\x1b[31m", http.StatusInternalServerError)
			},
			stderr: "answered 500 Internal Server Error: boom [31m",
		},
		{
			name: "not a status document", code: exitUnreachable, noTable: true,
			handle: func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`<html>hello</html>`)) },
			stderr: "did not send a heartbeat status document (JSON with a version): <html>hello</html>",
		},
		{
			name: "JSON without a version", code: exitUnreachable, noTable: true,
			handle: serveDoc(map[string]any{"heartbeats": []any{}}),
			stderr: "did not send a heartbeat status document",
		},
		{
			name: "json", handle: serveDoc(statusDoc(status.StateFailing)), args: []string{"--json"}, code: exitFailed, noTable: true,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, _ := statusServer(t, c.handle)
			stdout, stderr, code := runStatusCmd(t, append([]string{"--listen", srv.URL}, c.args...)...)
			if code != c.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout, stderr)
			}
			lines := map[string]bool{}
			for _, l := range strings.Split(stdout, "\n") {
				lines[strings.Join(strings.Fields(l), " ")] = true
			}
			for _, want := range c.stdout {
				if !lines[want] {
					t.Errorf("no line %q in\n%s", want, stdout)
				}
			}
			if c.stderr != "" && !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, c.stderr)
			}
			if c.noTable && strings.Contains(stdout, "HEARTBEAT") {
				t.Errorf("a table was printed:\n%s", stdout)
			}
			if strings.Contains(stdout+stderr, "\x1b") {
				t.Error("an escape sequence reached the output")
			}
		})
	}
}

// --json prints the document byte for byte, fields this version does not
// know included.
func TestStatusJSONVerbatim(t *testing.T) {
	doc := `{"version":1,"generated_at":"2026-03-14T09:26:53Z","started_at":"2026-03-14T08:26:53Z","ready":true,"future_field":{"x":1},"heartbeats":[{"name":"svc","frequency":"every 1 min","state":"failing","targets":[],"beats":[]}],"plugins":[]}`
	srv, _ := statusServer(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(doc)) })
	stdout, stderr, code := runStatusCmd(t, "--listen", srv.URL, "--json")
	if code != exitFailed || stdout != doc+"\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

func TestStatusUnreachable(t *testing.T) {
	addr := closedAddr(t)
	stdout, stderr, code := runStatusCmd(t, "--listen", addr)
	if code != exitUnreachable || stdout != "" {
		t.Errorf("exit %d, stdout %q", code, stdout)
	}
	if want := "cannot reach heartbeat at http://" + addr + "/api/v1/status: connection refused; is the daemon running"; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q lacks %q", stderr, want)
	}
}

// A daemon that accepts the connection and never answers is given up on
// after --timeout.
func TestStatusTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := statusServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	start := time.Now()
	_, stderr, code := runStatusCmd(t, "--listen", srv.URL, "--timeout", "200ms")
	if code != exitUnreachable || !strings.Contains(stderr, "no answer in time") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v despite --timeout 200ms", d)
	}
}

// A redirect is not followed: the credentials would go to another host.
func TestStatusRedirectNotFollowed(t *testing.T) {
	other, otherHits := statusServer(t, serveDoc(statusDoc(status.StateOK)))
	srv, _ := statusServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+statusPath, http.StatusFound)
	})
	_, stderr, code := runStatusCmd(t, "--listen", srv.URL)
	if code != exitUnreachable || !strings.Contains(stderr, "which is not followed") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the redirect was followed (%d requests)", n)
	}
}

func TestStatusNotHeartbeat(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, stderr, code := runStatusCmd(t, "--listen", srv.URL)
	if code != exitUnreachable || !strings.Contains(stderr, "404 Not Found: it is not heartbeat, or a heartbeat too old") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestStatusConfig(t *testing.T) {
	srv, hits := statusServer(t, serveDoc(statusDoc(status.StateOK)))
	dir := t.TempDir()
	write := func(name, listen string) string {
		p := filepath.Join(dir, name)
		body := listen + "targets:\n  console: { plugin: log }\nheartbeats:\n  - { name: svc, frequency: every 1 min, targets: [console] }\n"
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withListen := write("with.yaml", "listen: "+strings.TrimPrefix(srv.URL, "http://")+"\n")
	stdout, stderr, code := runStatusCmd(t, "--config", withListen)
	if code != exitOK || !strings.Contains(stdout, "svc") || hits.Load() != 1 {
		t.Errorf("exit %d, %d requests\nstdout:\n%s\nstderr:\n%s", code, hits.Load(), stdout, stderr)
	}
	t.Setenv(ConfigEnv, withListen)
	if _, stderr, code := runStatusCmd(t); code != exitOK {
		t.Errorf("$%s: exit %d: %s", ConfigEnv, code, stderr)
	}
	without := write("without.yaml", "")
	if _, stderr, code := runStatusCmd(t, "--config", without); code != exitInvalid || !strings.Contains(stderr, "has no listen: address") {
		t.Errorf("config without listen: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := runStatusCmd(t, "--config", filepath.Join(dir, "missing.yaml")); code != exitInvalid || stderr == "" {
		t.Errorf("missing config: exit %d, stderr %q", code, stderr)
	}
}

func TestStatusUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--listen", "127.0.0.1:1", "--config", "x.yaml"},
		{"--listen", "nonsense"},
		{"--listen", "http://user:pw@127.0.0.1:1"},
		{"--listen", "127.0.0.1:1", "--timeout", "0s"},
		{"--listen", "127.0.0.1:1", "--bogus"},
		{"--listen", "127.0.0.1:1", "extra"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			stdout, stderr, code := runStatusCmd(t, args...)
			if code != exitInvalid || stdout != "" || stderr == "" {
				t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			if strings.Contains(stderr, "pw") {
				t.Errorf("stderr shows the password: %q", stderr)
			}
		})
	}
}

func TestStatusURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:9464":           "http://127.0.0.1:9464/api/v1/status",
		":9464":                    "http://127.0.0.1:9464/api/v1/status",
		"0.0.0.0:9464":             "http://127.0.0.1:9464/api/v1/status",
		"[::]:9464":                "http://[::1]:9464/api/v1/status",
		"[::1]:9464":               "http://[::1]:9464/api/v1/status",
		"localhost:9464":           "http://localhost:9464/api/v1/status",
		"http://127.0.0.1:9464":    "http://127.0.0.1:9464/api/v1/status",
		"https://mon.example/hb/":  "https://mon.example/hb/api/v1/status",
		"https://mon.example:8443": "https://mon.example:8443/api/v1/status",
	} {
		if got, err := statusURL(in); err != nil || got != want {
			t.Errorf("statusURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// Strings from the daemon never carry escape sequences to the terminal;
// with colour on, the only sequences are the table's own.
func TestStatusHostileStrings(t *testing.T) {
	s := statusDoc(status.StateFailing)
	s.Heartbeats[0].Name = "svc\x1b]0;owned\x07\x1b[2J"
	s.Heartbeats[0].Targets[0].LastDetail = "line1\nline2\r\x1b[31mred " + strings.Repeat("x", 5000)
	s.Plugins[1].Detail = "\x1b[5mblink"
	for _, color := range []bool{false, true} {
		var out bytes.Buffer
		writeStatus(&out, &s, color)
		got := out.String()
		ours := regexp.MustCompile(`\x1b\[(0|32|33|1;31|2)m`)
		if rest := ours.ReplaceAllString(got, ""); strings.ContainsAny(rest, "\x1b\x07\r") {
			t.Errorf("color %v: a control character from the daemon reached the terminal: %q", color, rest)
		}
		if strings.Contains(got, strings.Repeat("x", maxStatusDetail+1)) {
			t.Errorf("color %v: a long detail was not cut", color)
		}
		if !strings.Contains(got, "line1 line2 [31mred") {
			t.Errorf("color %v: detail not made one line:\n%s", color, got)
		}
		if color != strings.Contains(got, ansiRed+"FAILING"+ansiReset) {
			t.Errorf("color %v: FAILING coloured %v", color, !color)
		}
	}
}

// Colour codes do not count in the column widths.
func TestStatusTableAligned(t *testing.T) {
	s := statusDoc(status.StateDegraded)
	for _, color := range []bool{false, true} {
		var out bytes.Buffer
		writeStatus(&out, &s, color)
		plain := regexp.MustCompile(`\x1b\[[0-9;]*m`).ReplaceAllString(out.String(), "")
		lines := strings.Split(plain, "\n")
		col := strings.Index(lines[0], "TARGET")
		for _, l := range lines[1:4] {
			if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
				t.Errorf("color %v: target column not at %d in %q", color, col, l)
			}
		}
	}
}

func TestColorWanted(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	for _, c := range []struct {
		noColor, tty bool
		env          map[string]string
		want         bool
	}{
		{tty: true, want: true},
		{tty: false},
		{tty: true, noColor: true},
		{tty: true, env: map[string]string{"NO_COLOR": "1"}},
		{tty: true, env: map[string]string{"TERM": "dumb"}},
		{tty: true, env: map[string]string{"NO_COLOR": "", "TERM": "xterm"}, want: true},
	} {
		if got := colorWanted(c.noColor, env(c.env), c.tty); got != c.want {
			t.Errorf("colorWanted(%+v) = %v", c, got)
		}
	}
}

func TestStatusHelp(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"help", "status"}, &out, &out); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--listen ADDRESS", "--config PATH", "--json", "--no-color", "--timeout DURATION", "Exit 0 when"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}

// The config's listen_auth goes with the request: the bearer token when
// there is one, else basic auth.
func TestStatusAuth(t *testing.T) {
	for _, c := range []struct {
		name string
		auth *config.ListenAuth
		want string
	}{
		{"none", nil, ""},
		{"basic", &config.ListenAuth{Username: "ops", Password: config.Secret("pa:ss")}, "Basic b3BzOnBhOnNz"},
		{"bearer", &config.ListenAuth{BearerToken: config.Secret("tok123")}, "Bearer tok123"},
		{"both", &config.ListenAuth{Username: "ops", Password: config.Secret("pass"), BearerToken: config.Secret("tok123")}, "Bearer tok123"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got atomic.Value
			srv, _ := statusServer(t, func(w http.ResponseWriter, r *http.Request) {
				got.Store(r.Header.Get("Authorization"))
				serveDoc(statusDoc(status.StateOK))(w, r)
			})
			u, err := statusURL(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := fetchStatus(context.Background(), statusEndpoint{url: u, auth: statusAuth(&config.Config{ListenAuth: c.auth})}); err != nil {
				t.Fatal(err)
			}
			if got.Load() != c.want {
				t.Errorf("Authorization %q, want %q", got.Load(), c.want)
			}
		})
	}
}
