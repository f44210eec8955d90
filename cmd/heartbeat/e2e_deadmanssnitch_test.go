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

	"github.com/seed-e9b80cf6/heartbeat/plugins/deadmanssnitch/dmsfake"
)

// End-to-end tests of the Dead Man's Snitch target: the real core and the
// real plugin process against the fake check-in endpoint.

func TestDeadMansSnitchDaemonBeats(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name string
		// settings returns the target's settings (a YAML flow mapping).
		settings func(t *testing.T, dms *dmsfake.Server, token string) string
	}{
		{"snitch_url", func(_ *testing.T, dms *dmsfake.Server, token string) string {
			return fmt.Sprintf("{ snitch_url: %q }", dms.SnitchURL(token))
		}},
		{"base_url and token_file", func(t *testing.T, dms *dmsfake.Server, token string) string {
			file := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("{ base_url: %q, token_file: %q }", dms.BaseURL(), file)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dms := dmsfake.New(t, dmsfake.Config{})
			token := dms.AddSnitch(dmsfake.NewToken())
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  dms:
    plugin: deadmanssnitch
    config: %s
heartbeats:
  - name: every-second
    frequency: every 1 sec
    targets: [dms]
`, tt.settings(t, dms, token)))
			d := startDaemon(t, bins, "--config", cfg)
			// The start-up beat and two scheduled ones.
			waitFor(t, 30*time.Second, "three check-ins", func() bool { return len(dms.CheckIns(token)) >= 3 })
			stopCleanly(t, d)

			for i, r := range dms.Requests() {
				if r.Status != dmsfake.AcceptedStatus || r.CheckIn == nil {
					t.Errorf("request %d to %s answered %d and stored nothing", i, r.Path, r.Status)
					continue
				}
				if r.Method != http.MethodGet || r.Path != "/"+token || r.RawQuery != "" {
					t.Errorf("request %d: %s %s?%s, want a plain GET of the snitch's URL", i, r.Method, r.Path, r.RawQuery)
				}
				if r.CheckIn.Failed {
					t.Errorf("request %d stored a failure", i)
				}
				if !strings.HasPrefix(r.UserAgent, "heartbeat/") {
					t.Errorf("request %d: User-Agent %q", i, r.UserAgent)
				}
			}
			if st := dms.State(token); st != dmsfake.Healthy {
				t.Errorf("snitch is %s, want healthy", st)
			}
			assertNoSecret(t, d.stderr.String(), token)
		})
	}
}

// A health-gated heartbeat: any request is a check-in, so no start is
// sent; the finish carries the exit status as s and the message, duration
// and end of the output as m.
func TestDeadMansSnitchHealthCheck(t *testing.T) {
	bins := buildBinaries(t)
	dms := dmsfake.New(t, dmsfake.Config{})
	token := dms.AddSnitch(dmsfake.NewToken())
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  dms: { plugin: deadmanssnitch, config: { snitch_url: %q } }
heartbeats:
  - name: failing
    frequency: every 1 hour
    targets: [dms]
    check: { command: ["sh", "-c", "echo starting; echo 'disk full' >&2; exit 3"], timeout: 20s }
  - name: passing
    frequency: every 1 hour
    targets: [dms]
    check: { command: ["sh", "-c", "echo all good"], timeout: 20s }
`, dms.SnitchURL(token)))
	tests := []struct {
		heartbeat string
		s         string
		failed    bool
		m         []string
		state     dmsfake.State
	}{
		{"failing", "3", true, []string{"exited with status 3; duration ", "; output: ", "starting", "disk full"}, dmsfake.Errored},
		{"passing", "0", false, []string{"succeeded; duration ", "; output: all good"}, dmsfake.Healthy},
	}
	for _, tt := range tests {
		t.Run(tt.heartbeat, func(t *testing.T) {
			before := len(dms.Requests())
			stdout, stderr, code := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", bins.pluginDir, "--heartbeat", tt.heartbeat)
			if code != exitOK {
				t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			reqs := dms.Requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want one check-in (no start signal): %+v", len(reqs), reqs)
			}
			r := reqs[0]
			if r.Method != http.MethodGet || r.Path != "/"+token || r.CheckIn == nil {
				t.Fatalf("%s %s stored %+v, want a GET check-in", r.Method, r.Path, r.CheckIn)
			}
			if r.CheckIn.Status == nil || *r.CheckIn.Status != tt.s || r.CheckIn.Failed != tt.failed {
				t.Errorf("s = %v (failed %v), want %q", r.CheckIn.Status, r.CheckIn.Failed, tt.s)
			}
			for _, w := range tt.m {
				if !strings.Contains(r.CheckIn.Message, w) {
					t.Errorf("m = %q lacks %q", r.CheckIn.Message, w)
				}
			}
			if st := dms.State(token); st != tt.state {
				t.Errorf("snitch is %s, want %s", st, tt.state)
			}
			assertNoSecret(t, stdout+stderr, token)
		})
	}
}

// `heartbeat exec` wraps a job: one check-in when it ends, with the exit
// status as s and the output's end in m; heartbeat exits with the job's
// status.
func TestDeadMansSnitchExec(t *testing.T) {
	bins := buildBinaries(t)
	dms := dmsfake.New(t, dmsfake.Config{})
	token := dms.AddSnitch(dmsfake.NewToken())
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  dms: { plugin: deadmanssnitch, config: { snitch_url: %q } }
heartbeats:
  - { name: nightly-backup, frequency: every 1 day, targets: [dms] }
`, dms.SnitchURL(token)))
	tests := []struct {
		name   string
		script string
		code   int
		failed bool
		m      []string
		state  dmsfake.State
	}{
		{"failing job", "echo out; echo 'it broke' >&2; exit 3", 3, true, []string{"duration ", "; output: ", "out", "it broke"}, dmsfake.Errored},
		{"passing job", "echo fine", 0, false, []string{"duration ", "; output: fine"}, dmsfake.Healthy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(dms.Requests())
			stdout, stderr, code := runCLI(t, bins, nil, "exec", "--config", cfg, "--plugin-dir", bins.pluginDir, "--target", "dms", "--", "sh", "-c", tt.script)
			if code != tt.code {
				t.Fatalf("exit code %d, want the job's %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			reqs := dms.Requests()[before:]
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want one check-in (no start signal): %+v", len(reqs), reqs)
			}
			ci := reqs[0].CheckIn
			if ci == nil || ci.Failed != tt.failed {
				t.Fatalf("stored %+v, want failed=%v", ci, tt.failed)
			}
			if tt.failed && (ci.Status == nil || *ci.Status != fmt.Sprint(tt.code)) {
				t.Errorf("s = %v, want %d", ci.Status, tt.code)
			}
			for _, w := range tt.m {
				if !strings.Contains(ci.Message, w) {
					t.Errorf("m = %q lacks %q", ci.Message, w)
				}
			}
			if st := dms.State(token); st != tt.state {
				t.Errorf("snitch is %s, want %s", st, tt.state)
			}
			assertNoSecret(t, stdout+stderr, token)
		})
	}
}

func TestDeadMansSnitchSendErrors(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name string
		mode dmsfake.Mode
		want []string
	}{
		{"unknown snitch", dmsfake.Deleted, []string{"FAIL svc -> dms", "Dead Man's Snitch has no snitch with this token", "not_found"}},
		{"rate limited", dmsfake.RateLimited, []string{"FAIL svc -> dms", "Retry-After 1m0s", "rate_limited"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dms := dmsfake.New(t, dmsfake.Config{})
			token := dms.AddSnitch(dmsfake.NewToken())
			dms.SetMode(token, tt.mode)
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  dms: { plugin: deadmanssnitch, config: { snitch_url: %q } }
heartbeats:
  - { name: svc, frequency: every 1 hour, targets: [dms] }
`, dms.SnitchURL(token)))
			stdout, stderr, code := sendOnce(t, bins, nil, cfg)
			assertOneFailLine(t, stdout, stderr, code, tt.want...)
			assertNoSecret(t, stdout+stderr, token)
			if n := len(dms.Requests()); n != 1 {
				t.Errorf("%d requests, want 1 (not retried)", n)
			}
		})
	}
}
