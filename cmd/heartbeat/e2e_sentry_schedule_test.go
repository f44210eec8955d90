//go:build unix

package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sentry/sentryfake"
)

// With upsert on and no schedule setting, the monitor's schedule is the
// heartbeat's, as the core sends it with each beat.

// The daemon's beats of a heartbeat every 1 minute upsert an interval of
// 1 minute, in the heartbeat's time zone.
func TestSentryUpsertFollowsTheHeartbeat(t *testing.T) {
	bins := buildBinaries(t)
	srv := sentryfake.New(t, sentryfake.Options{})
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  sentry: { plugin: sentry, config: { dsn: %q, monitor_slug: minutely, upsert: true, checkin_margin: 2m } }
heartbeats:
  - name: minutely
    frequency: every 1 minute
    timezone: Europe/Stockholm
    targets: [sentry]
`, srv.DSN()))
	d := startDaemon(t, bins, "--config", cfg)
	waitFor(t, 30*time.Second, "the start-up check-in", func() bool { return len(srv.Requests()) >= 1 })
	stopCleanly(t, d)
	m, ok := srv.Monitor("minutely")
	want := sentryfake.Schedule{Type: "interval", Value: 1, Unit: "minute"}
	if !ok || m.Config == nil || m.Config.Schedule != want || m.Config.Timezone != "Europe/Stockholm" ||
		m.Config.CheckinMargin == nil || *m.Config.CheckinMargin != 2 {
		t.Errorf("monitor %+v (config %+v), want one upserted with [1, minute] in Europe/Stockholm and a margin of 2", m, m.Config)
	}
	for i, r := range srv.Requests() {
		if r.CheckIn == nil || r.CheckIn.MonitorConfig == nil || r.Dropped != "" {
			t.Errorf("check-in %d: %d %s, dropped %q: want an upsert stored", i, r.Status, r.Answer, r.Dropped)
		}
	}
	assertNoSecret(t, d.stderr.String(), srv.PublicKey())
}

// `heartbeat send` carries the heartbeat's cron and time zone; the timezone
// setting, when given, wins; what Sentry cannot take is left out, with a
// warning naming the schedule setting, and the check-in still goes out.
func TestSentrySendUpsertsTheHeartbeatsSchedule(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name     string
		schedule string // the heartbeat's frequency or cron line
		extra    string // more settings of the target
		want     *sentryfake.MonitorConfig
		warning  string
	}{
		{"cron in a time zone", "cron: \"30 2 * * *\"\n    timezone: Asia/Tokyo", "",
			&sentryfake.MonitorConfig{Schedule: sentryfake.Schedule{Type: "crontab", Crontab: "30 2 * * *"}, Timezone: "Asia/Tokyo"}, ""},
		{"timezone setting wins", "cron: \"30 2 * * *\"\n    timezone: Asia/Tokyo", ", timezone: America/New_York",
			&sentryfake.MonitorConfig{Schedule: sentryfake.Schedule{Type: "crontab", Crontab: "30 2 * * *"}, Timezone: "America/New_York"}, ""},
		{"schedule setting wins", "frequency: every 1 hour", `, schedule: "0 * * * *"`,
			&sentryfake.MonitorConfig{Schedule: sentryfake.Schedule{Type: "crontab", Crontab: "0 * * * *"}}, ""},
		{"interval in hours", "frequency: every 2 hours", "",
			&sentryfake.MonitorConfig{Schedule: sentryfake.Schedule{Type: "interval", Value: 2, Unit: "hour"}}, ""},
		{"seconds", "frequency: every 30 seconds", "", nil, "minutes at the least"},
		{"later.js at", "frequency: at 10:15 am", "", nil, "set schedule"},
		{"cron with seconds", `cron: "0 */5 * * * *"`, "", nil, "seconds field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sentryfake.New(t, sentryfake.Options{})
			srv.AddMonitor("job")
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  sentry: { plugin: sentry, config: { dsn: %q, monitor_slug: job, upsert: true%s } }
heartbeats:
  - name: job
    %s
    targets: [sentry]
`, srv.DSN(), tt.extra, tt.schedule))
			stdout, stderr, code := sendOnce(t, bins, nil, cfg)
			if code != exitOK {
				t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			assertNoSecret(t, stdout+stderr, srv.PublicKey())
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].CheckIn == nil || reqs[0].Dropped != "" {
				t.Fatalf("requests %+v, want one check-in stored", reqs)
			}
			got := reqs[0].CheckIn.MonitorConfig
			switch {
			case tt.want == nil && got != nil:
				t.Errorf("monitor_config %+v sent, want none", got)
			case tt.want != nil && (got == nil || got.Schedule != tt.want.Schedule || got.Timezone != tt.want.Timezone):
				t.Errorf("monitor_config %+v, want %+v", got, tt.want)
			}
			if tt.warning != "" && (!strings.Contains(stderr, tt.warning) || strings.Count(stderr, tt.warning) != 1) {
				t.Errorf("stderr lacks one warning with %q:\n%s", tt.warning, stderr)
			}
		})
	}
}

// `heartbeat exec --cron` upserts its own schedule and time zone; a
// one-shot exec has none, so its check-ins carry no monitor_config.
func TestSentryExecUpsertsItsSchedule(t *testing.T) {
	bins := buildBinaries(t)
	srv := sentryfake.New(t, sentryfake.Options{})
	srv.AddMonitor("job")
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  sentry: { plugin: sentry, config: { dsn: %q, monitor_slug: job, upsert: true } }
heartbeats:
  - { name: other, frequency: every 1 day, targets: [sentry] }
`, srv.DSN()))

	stdout, stderr, code := runCLI(t, bins, nil, "exec", "--config", cfg, "--plugin-dir", bins.pluginDir, "--target", "sentry", "--", "true")
	if code != exitOK {
		t.Fatalf("one-shot exec: exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].CheckIn == nil || reqs[1].CheckIn == nil {
		t.Fatalf("one-shot exec: requests %+v, want in_progress and ok", reqs)
	}
	for _, r := range reqs {
		if r.CheckIn.MonitorConfig != nil {
			t.Errorf("one-shot exec sent monitor_config %+v, want none", r.CheckIn.MonitorConfig)
		}
	}
	if n := strings.Count(stderr, "no schedule"); n != 1 {
		t.Errorf("one-shot exec: %d warnings about the missing schedule, want 1:\n%s", n, stderr)
	}

	p := startExec(t, bins, nil, "--config", cfg, "--target", "sentry", "--cron", "0 3 * * *", "--timezone", "Europe/Stockholm", "--", "true")
	waitFor(t, 30*time.Second, "the first periodic run", func() bool { return len(srv.Requests()) >= 4 })
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Errorf("periodic exec: exit %d after SIGTERM, want 0", code)
	}
	for _, r := range srv.Requests()[2:] {
		if r.CheckIn == nil {
			t.Errorf("periodic exec: %d %s, want a check-in", r.Status, r.Answer)
			continue
		}
		mc := r.CheckIn.MonitorConfig
		if mc == nil || mc.Schedule != (sentryfake.Schedule{Type: "crontab", Crontab: "0 3 * * *"}) || mc.Timezone != "Europe/Stockholm" {
			t.Errorf("periodic exec: check-in %+v, want an upsert of 0 3 * * * in Europe/Stockholm", r.CheckIn)
		}
	}
	assertNoSecret(t, p.stdout.String()+p.stderr.String()+stderr, srv.PublicKey())
}
