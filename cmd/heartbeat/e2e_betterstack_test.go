//go:build unix

package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/betterstack/bsfake"
)

// End-to-end tests of the Better Stack target: the real core and the real
// plugin process against the fake Better Stack heartbeat endpoint.

func TestBetterStackDaemonBeats(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name string
		// settings returns the target's settings (a YAML flow mapping).
		settings func(t *testing.T, bs *bsfake.Server, token string) string
	}{
		{"heartbeat_url", func(_ *testing.T, bs *bsfake.Server, token string) string {
			return fmt.Sprintf("{ heartbeat_url: %q }", bs.HeartbeatURL(token))
		}},
		{"base_url and token_file", func(t *testing.T, bs *bsfake.Server, token string) string {
			file := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("{ base_url: %q, token_file: %q }", bs.BaseURL(), file)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bs := bsfake.New(t, bsfake.Config{})
			token := bs.AddHeartbeat(bsfake.NewToken())
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  bs:
    plugin: betterstack
    config: %s
heartbeats:
  - name: every-second
    frequency: every 1 sec
    targets: [bs]
`, tt.settings(t, bs, token)))
			d := startDaemon(t, bins, "--config", cfg)
			// The start-up beat and two scheduled ones.
			waitFor(t, 30*time.Second, "three reports", func() bool { return len(bs.Reports(token)) >= 3 })
			stopCleanly(t, d)

			reqs := bs.Requests()
			for i, r := range reqs {
				if r.Status != http.StatusOK || r.Report == nil {
					t.Errorf("request %d to %s answered %d and stored nothing", i, r.Path, r.Status)
					continue
				}
				if r.Path != bsfake.DefaultPrefix+token+"/0" || r.Method != http.MethodGet || len(r.Body) != 0 || r.RawQuery != "" {
					t.Errorf("request %d: %s %s?%s with %d body bytes, want a plain GET of the heartbeat URL's /0", i, r.Method, r.Path, r.RawQuery, len(r.Body))
				}
				if r.Report.Kind != bsfake.KindSuccess || r.Report.ExitCode == nil || *r.Report.ExitCode != 0 {
					t.Errorf("request %d stored %s with exit code %v, want a success with exit code 0", i, r.Report.Kind, r.Report.ExitCode)
				}
				if !strings.HasPrefix(r.UserAgent, "heartbeat/") {
					t.Errorf("request %d: User-Agent %q", i, r.UserAgent)
				}
			}
			if st := bs.Status(token); st != bsfake.Up {
				t.Errorf("heartbeat is %s, want up", st)
			}
			assertNoSecret(t, d.stderr.String(), token)
		})
	}
}

// A health-gated heartbeat: Better Stack has no start signal, so each beat
// is one report, the failure with the command's exit code in the URL and
// its message, duration and output in the body; a passing check resolves
// the incident through /0.
func TestBetterStackHealthCheck(t *testing.T) {
	bins := buildBinaries(t)
	bs := bsfake.New(t, bsfake.Config{})
	token := bs.AddHeartbeat(bsfake.NewToken())
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  bs: { plugin: betterstack, config: { heartbeat_url: %q } }
heartbeats:
  - name: failing
    frequency: every 1 hour
    targets: [bs]
    check: { command: ["sh", "-c", "echo starting; echo 'disk full' >&2; exit 3"], timeout: 20s }
  - name: passing
    frequency: every 1 hour
    targets: [bs]
    check: { command: ["sh", "-c", "echo all good"], timeout: 20s }
`, bs.HeartbeatURL(token)))
	tests := []struct {
		heartbeat string
		path      string
		kind      bsfake.Kind
		exit      int
		body      []string
		status    bsfake.Status
	}{
		{"failing", "/3", bsfake.KindFailure, 3, []string{"exited with status 3", "\nduration: ", "starting\ndisk full\n"}, bsfake.Down},
		{"passing", "/0", bsfake.KindSuccess, 0, []string{"succeeded", "\nduration: ", "all good\n"}, bsfake.Up},
	}
	for _, tt := range tests {
		t.Run(tt.heartbeat, func(t *testing.T) {
			before := len(bs.Requests())
			stdout, stderr, code := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", bins.pluginDir, "--heartbeat", tt.heartbeat)
			if code != exitOK {
				t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			reqs := bs.Requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want one report (no start signal): %+v", len(reqs), reqs)
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != bsfake.DefaultPrefix+token+tt.path {
				t.Errorf("%s %s, want POST %s", r.Method, r.Path, tt.path)
			}
			if r.Report == nil || r.Report.Kind != tt.kind || r.Report.ExitCode == nil || *r.Report.ExitCode != tt.exit {
				t.Fatalf("stored %+v, want %s with exit code %d", r.Report, tt.kind, tt.exit)
			}
			for _, w := range tt.body {
				if !strings.Contains(string(r.Body), w) {
					t.Errorf("body %q lacks %q", r.Body, w)
				}
			}
			if st := bs.Status(token); st != tt.status {
				t.Errorf("heartbeat is %s, want %s", st, tt.status)
			}
			assertNoSecret(t, stdout+stderr, token)
		})
	}
}

func TestBetterStackSendErrors(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name  string
		state bsfake.State
		want  []string
	}{
		{"unknown heartbeat", bsfake.Deleted, []string{"FAIL svc -> bs", "Better Stack has no heartbeat with this token", "not_found"}},
		{"rate limited", bsfake.RateLimited, []string{"FAIL svc -> bs", "Retry-After 1m0s", "rate_limited"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bs := bsfake.New(t, bsfake.Config{})
			token := bs.AddHeartbeat(bsfake.NewToken())
			bs.SetState(token, tt.state)
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  bs: { plugin: betterstack, config: { heartbeat_url: %q } }
heartbeats:
  - { name: svc, frequency: every 1 hour, targets: [bs] }
`, bs.HeartbeatURL(token)))
			stdout, stderr, code := sendOnce(t, bins, nil, cfg)
			assertOneFailLine(t, stdout, stderr, code, tt.want...)
			assertNoSecret(t, stdout+stderr, token)
			if n := len(bs.Requests()); n != 1 {
				t.Errorf("%d requests, want 1 (not retried)", n)
			}
		})
	}
}

// `heartbeat exec` wraps a job: Better Stack gets one report when it ends
// (no start, which it has not), the exit code in the URL and the output's
// tail in the body; heartbeat exits with the job's status.
func TestBetterStackExec(t *testing.T) {
	bins := buildBinaries(t)
	bs := bsfake.New(t, bsfake.Config{})
	token := bs.AddHeartbeat(bsfake.NewToken())
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  bs: { plugin: betterstack, config: { heartbeat_url: %q } }
heartbeats:
  - { name: nightly-backup, frequency: every 1 day, targets: [bs] }
`, bs.HeartbeatURL(token)))
	tests := []struct {
		name   string
		script string
		code   int
		path   string
		kind   bsfake.Kind
		body   []string // lines of output, in any order: stdout and stderr are read apart
		status bsfake.Status
	}{
		{"failing job", "echo out; echo 'it broke' >&2; exit 3", 3, "/3", bsfake.KindFailure, []string{"\nout\n", "\nit broke\n"}, bsfake.Down},
		{"passing job", "echo fine", 0, "/0", bsfake.KindSuccess, []string{"\nfine\n"}, bsfake.Up},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(bs.Requests())
			stdout, stderr, code := runCLI(t, bins, nil, "exec", "--config", cfg, "--plugin-dir", bins.pluginDir, "--target", "bs", "--", "sh", "-c", tt.script)
			if code != tt.code {
				t.Fatalf("exit code %d, want the job's %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			reqs := bs.Requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want one report (no start signal): %+v", len(reqs), reqs)
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != bsfake.DefaultPrefix+token+tt.path {
				t.Errorf("%s %s, want POST …%s", r.Method, r.Path, tt.path)
			}
			if r.Report == nil || r.Report.Kind != tt.kind {
				t.Fatalf("stored %+v, want %s", r.Report, tt.kind)
			}
			_, output, ok := strings.Cut(string(r.Body), "\nduration: ")
			if !ok {
				t.Errorf("body %q lacks the duration", r.Body)
			}
			for _, line := range tt.body {
				if !strings.Contains(output, line) {
					t.Errorf("body %q lacks the output line %q after the duration", r.Body, line)
				}
			}
			if st := bs.Status(token); st != tt.status {
				t.Errorf("heartbeat is %s, want %s", st, tt.status)
			}
			assertNoSecret(t, stdout+stderr, token)
		})
	}
}
