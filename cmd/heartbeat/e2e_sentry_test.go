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

	"github.com/seed-e9b80cf6/heartbeat/plugins/sentry/sentryfake"
)

// End-to-end tests of the Sentry Crons target: the real core and plugin
// processes against the fake check-in endpoint.

// TestSentryDaemonCheckIns runs the daemon with a heartbeat every second;
// the DSN comes from a secret file, and every check-in upserts the monitor.
func TestSentryDaemonCheckIns(t *testing.T) {
	bins := buildBinaries(t)
	srv := sentryfake.New(t, sentryfake.Options{})
	dsnFile := filepath.Join(t.TempDir(), "dsn")
	if err := os.WriteFile(dsnFile, []byte(srv.DSN()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  sentry:
    plugin: sentry
    config:
      dsn_file: %q
      monitor_slug: every-second
      environment: e2e
      schedule: every 1 minute
      checkin_margin: 1m
heartbeats:
  - name: every-second
    frequency: every 1 sec
    targets: [sentry]
`, dsnFile))
	d := startDaemon(t, bins, "--config", cfg)
	// The start-up beat and two scheduled ones.
	waitFor(t, 30*time.Second, "three check-ins", func() bool { return len(srv.Requests()) >= 3 })
	stopCleanly(t, d)

	ids := map[string]bool{}
	for i, r := range srv.Requests() {
		if r.Status != http.StatusAccepted || r.CheckIn == nil {
			t.Errorf("request %d answered %d %s", i, r.Status, r.Answer)
			continue
		}
		c := r.CheckIn
		if r.Method != http.MethodPost || !c.JSON || c.Status != sentryfake.OK || c.Environment == nil || *c.Environment != "e2e" {
			t.Errorf("check-in %d: %s status %q environment %v, want a JSON POST of ok in e2e", i, r.Method, c.RawStatus, c.Environment)
		}
		if c.ID == sentryfake.NilID || ids[c.ID] {
			t.Errorf("check-in %d: id %s is nil or repeated", i, c.ID)
		}
		ids[c.ID] = true
		if c.Duration != nil {
			t.Errorf("check-in %d: duration %v without a health check", i, *c.Duration)
		}
		// Sentry drops check-ins over 6 a minute after its 202; the rest
		// are stored.
		if r.Dropped != "" && r.Dropped != "rate limited" {
			t.Errorf("check-in %d dropped: %s", i, r.Dropped)
		}
	}
	m, ok := srv.Monitor("every-second")
	if !ok || m.Config == nil || m.Config.Schedule != (sentryfake.Schedule{Type: "interval", Value: 1, Unit: "minute"}) || m.Config.CheckinMargin == nil || *m.Config.CheckinMargin != 1 {
		t.Errorf("monitor %+v, want one upserted with every 1 minute and a margin of 1", m)
	}
	if n := len(srv.CheckIns("every-second")); n < 3 || n > sentryfake.CheckInsPerMinute {
		t.Errorf("%d check-ins stored, want 3 to %d", n, sentryfake.CheckInsPerMinute)
	}
	assertNoSecret(t, d.stderr.String(), srv.PublicKey())
}

// A health-gated heartbeat sends in_progress before the check, then ok or
// error with the same check_in_id and the check's duration.
func TestSentryHealthCheckPairsCheckIns(t *testing.T) {
	bins := buildBinaries(t)
	srv := sentryfake.New(t, sentryfake.Options{})
	srv.AddMonitor("backup")
	flag := filepath.Join(t.TempDir(), "healthy")
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  sentry: { plugin: sentry, config: { dsn: %q, monitor_slug: backup } }
heartbeats:
  - name: backup
    frequency: every 1 hour
    targets: [sentry]
    check: { command: ["sh", "-c", "test -e %s && echo fine && exit 0; echo broken; exit 3"], timeout: 10s }
`, srv.DSN(), flag))
	tests := []struct {
		name    string
		healthy bool
		status  sentryfake.Status
	}{
		{"failing check", false, sentryfake.Error},
		{"passing check", true, sentryfake.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.healthy {
				if err := os.WriteFile(flag, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before := len(srv.Requests())
			stdout, stderr, code := sendOnce(t, bins, nil, cfg)
			if code != exitOK {
				t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			assertNoSecret(t, stdout+stderr, srv.PublicKey())
			reqs := srv.Requests()[before:]
			if len(reqs) != 2 {
				t.Fatalf("%d check-ins, want in_progress and its finish: %+v", len(reqs), reqs)
			}
			start, finish := reqs[0].CheckIn, reqs[1].CheckIn
			if start == nil || finish == nil {
				t.Fatalf("refused: %d %s, %d %s", reqs[0].Status, reqs[0].Answer, reqs[1].Status, reqs[1].Answer)
			}
			if start.Status != sentryfake.InProgress || finish.Status != tt.status {
				t.Errorf("statuses %s, %s; want in_progress, %s", start.Status, finish.Status, tt.status)
			}
			if start.ID == sentryfake.NilID || start.ID != finish.ID {
				t.Errorf("check_in_ids %s and %s, want the same, not nil", start.ID, finish.ID)
			}
			if finish.Duration == nil || *finish.Duration <= 0 || *finish.Duration > 10 {
				t.Errorf("duration %v, want the check's (0 to 10 s)", finish.Duration)
			}
			cis := srv.CheckIns("backup")
			last := cis[len(cis)-1]
			if last.ID != start.ID || len(last.Statuses) != 2 || last.Status != tt.status {
				t.Errorf("stored %+v, want one check-in turned from in_progress to %s", last, tt.status)
			}
		})
	}
}

// A wrong key is a configuration error: one request, not retried, and the
// key stays out of the output.
func TestSentrySendWrongKey(t *testing.T) {
	bins := buildBinaries(t)
	srv := sentryfake.New(t, sentryfake.Options{})
	srv.AddMonitor("backup")
	wrong := sentryfake.NewPublicKey()
	dsn := strings.Replace(srv.DSN(), srv.PublicKey(), wrong, 1)
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  sentry: { plugin: sentry, config: { dsn: %q, monitor_slug: backup } }
heartbeats:
  - { name: backup, frequency: every 1 hour, targets: [sentry] }
`, dsn))
	stdout, stderr, code := sendOnce(t, bins, nil, cfg)
	assertOneFailLine(t, stdout, stderr, code, "FAIL backup -> sentry", "refused the DSN", "permanent")
	assertNoSecret(t, stdout+stderr, wrong)
	if reqs := srv.Requests(); len(reqs) != 1 || reqs[0].Status != http.StatusForbidden {
		t.Errorf("%d requests, want one answered 403 (not retried)", len(reqs))
	}
}

// Invalid settings are reported by name at validate, the key never shown.
func TestSentryValidateSettings(t *testing.T) {
	bins := buildBinaries(t)
	key := sentryfake.NewPublicKey()
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  sentry:
    plugin: sentry
    config: { dsn: "https://%s@o0.ingest.sentry.io", monitor_slug: Backup, schedule: "61 * * * *", timezone: Mars/Base }
heartbeats:
  - { name: backup, frequency: every 1 hour, targets: [sentry] }
`, key))
	stdout, stderr, code := runCLI(t, bins, nil, "validate", "--config", cfg, "--plugin-dir", bins.pluginDir)
	if code == exitOK {
		t.Fatalf("validate accepted invalid settings:\n%s%s", stdout, stderr)
	}
	out := stdout + stderr
	for _, want := range []string{"dsn", "project id", "monitor_slug", `use "backup"`, "schedule", "out of range", "timezone"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	assertNoSecret(t, out, key)
}

// `heartbeat exec` reports a job as in_progress, then error (exit 3) or ok
// with the same check_in_id and the job's duration; its output has no
// place in a check-in and is not sent.
func TestSentryExec(t *testing.T) {
	bins := buildBinaries(t)
	srv := sentryfake.New(t, sentryfake.Options{})
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  sentry: { plugin: sentry, config: { dsn: %q, monitor_slug: nightly-job, schedule: "0 3 * * *", max_runtime: 30m } }
heartbeats:
  - { name: nightly-job, frequency: every 1 day, targets: [sentry] }
`, srv.DSN()))
	tests := []struct {
		name   string
		script string
		exit   int
		status sentryfake.Status
	}{
		{"job fails with exit 3", "echo out; echo secret-output-line; exit 3", 3, sentryfake.Error},
		{"job succeeds", "echo fine", 0, sentryfake.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Requests())
			stdout, stderr, code := runCLI(t, bins, nil, "exec", "--config", cfg, "--plugin-dir", bins.pluginDir, "--target", "sentry", "--", "sh", "-c", tt.script)
			if code != tt.exit {
				t.Fatalf("exit code %d, want the job's %d\nstdout:\n%s\nstderr:\n%s", code, tt.exit, stdout, stderr)
			}
			if !strings.Contains(stdout, "out") && !strings.Contains(stdout, "fine") {
				t.Errorf("the job's output did not reach stdout: %q", stdout)
			}
			assertNoSecret(t, stdout+stderr, srv.PublicKey())
			reqs := srv.Requests()[before:]
			if len(reqs) != 2 || reqs[0].CheckIn == nil || reqs[1].CheckIn == nil {
				t.Fatalf("%d requests, want in_progress and its finish: %+v", len(reqs), reqs)
			}
			start, finish := reqs[0].CheckIn, reqs[1].CheckIn
			if start.Status != sentryfake.InProgress || finish.Status != tt.status {
				t.Errorf("statuses %s, %s; want in_progress, %s", start.Status, finish.Status, tt.status)
			}
			if start.ID == sentryfake.NilID || start.ID != finish.ID {
				t.Errorf("check_in_ids %s and %s, want the same, not nil", start.ID, finish.ID)
			}
			if finish.Duration == nil || *finish.Duration <= 0 || *finish.Duration > 60 {
				t.Errorf("duration %v, want the job's", finish.Duration)
			}
			for _, r := range reqs {
				if strings.Contains(string(r.Body), "secret-output-line") {
					t.Errorf("a check-in carries the job's output: %s", r.Body)
				}
				if r.Dropped != "" {
					t.Errorf("dropped: %s", r.Dropped)
				}
			}
			m, ok := srv.Monitor("nightly-job")
			if !ok || m.Config == nil || m.Config.Schedule.Crontab != "0 3 * * *" || m.Config.MaxRuntime == nil || *m.Config.MaxRuntime != 30 {
				t.Errorf("monitor %+v, want one upserted with 0 3 * * * and max runtime 30", m)
			}
		})
	}
}
