package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sentry/sentryfake"
)

// With upsert on and no schedule setting, each check-in upserts the
// schedule the beat came with, in the heartbeat's time zone unless the
// timezone setting says otherwise; the schedule setting wins when given.
func TestUpsertFollowsTheHeartbeat(t *testing.T) {
	every := func(n uint64, unit string) sentryfake.Schedule {
		return sentryfake.Schedule{Type: "interval", Value: n, Unit: unit}
	}
	tests := []struct {
		name     string
		settings conf
		schedule sdk.Schedule
		want     sentryfake.MonitorConfig
	}{
		{"every 1 minute", conf{"upsert": true}, sdk.Schedule{Frequency: "every 1 minute"},
			sentryfake.MonitorConfig{Schedule: every(1, "minute")}},
		{"interval with margin and runtime", conf{"upsert": true, "checkin_margin": "2m", "max_runtime": "1h"}, sdk.Schedule{Frequency: "every 6 hours"},
			sentryfake.MonitorConfig{Schedule: every(6, "hour"), CheckinMargin: u64(2), MaxRuntime: u64(60)}},
		{"cron in the heartbeat's zone", conf{"upsert": true}, sdk.Schedule{Cron: "30 2 * * *", Timezone: "Asia/Tokyo"},
			sentryfake.MonitorConfig{Schedule: sentryfake.Schedule{Type: "crontab", Crontab: "30 2 * * *"}, Timezone: "Asia/Tokyo"}},
		{"timezone setting wins", conf{"upsert": true, "timezone": "Europe/Stockholm"}, sdk.Schedule{Cron: "30 2 * * *", Timezone: "Asia/Tokyo"},
			sentryfake.MonitorConfig{Schedule: sentryfake.Schedule{Type: "crontab", Crontab: "30 2 * * *"}, Timezone: "Europe/Stockholm"}},
		{"schedule setting wins", conf{"schedule": "0 * * * *"}, sdk.Schedule{Frequency: "every 1 minute", Timezone: "Asia/Tokyo"},
			sentryfake.MonitorConfig{Schedule: sentryfake.Schedule{Type: "crontab", Crontab: "0 * * * *"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sentryfake.New(t, sentryfake.Options{})
			// No AddMonitor: the upsert creates it.
			p := withFake(t, srv, "nightly", tt.settings)
			for _, s := range []sdk.Signal{sdk.SignalStart, sdk.SignalSuccess} {
				if _, err := p.beat(sdk.Beat{Signal: s, RunID: runID, Schedule: tt.schedule}); err != nil {
					t.Fatal(err)
				}
				if r := lastCheckIn(t, srv); r.Dropped != "" || r.CheckIn.MonitorConfig == nil {
					t.Fatalf("%s check-in dropped (%s) or without monitor_config", s, r.Dropped)
				}
			}
			m, ok := srv.Monitor("nightly")
			if !ok || m.Config == nil || m.Upserts != 2 {
				t.Fatalf("monitor %+v, want one upserted by both check-ins", m)
			}
			if got := *m.Config; !sameConfig(got, tt.want) {
				t.Errorf("config %+v, want %+v", describe(got), describe(tt.want))
			}
		})
	}
}

// Without upsert, the beat's schedule changes nothing: no monitor_config.
func TestNoUpsertIgnoresTheHeartbeatsSchedule(t *testing.T) {
	for _, settings := range []conf{nil, {"upsert": false}} {
		srv := sentryfake.New(t, sentryfake.Options{})
		srv.AddMonitor("nightly")
		p := withFake(t, srv, "nightly", settings)
		if _, err := p.beat(sdk.Beat{Signal: sdk.SignalSuccess, Schedule: sdk.Schedule{Frequency: "every 1 minute"}}); err != nil {
			t.Fatal(err)
		}
		if r := lastCheckIn(t, srv); r.CheckIn.MonitorConfig != nil || r.Dropped != "" {
			t.Errorf("settings %v: monitor_config %+v, dropped %q; want a plain check-in stored", settings, r.CheckIn.MonitorConfig, r.Dropped)
		}
	}
}

// A heartbeat schedule Sentry cannot express goes out as a plain check-in
// (a wrong schedule would raise missed check-ins), with one warning per
// schedule that names the fix; the key and raw control characters stay out
// of the log.
func TestUnmappedScheduleWarnsOnce(t *testing.T) {
	srv := sentryfake.New(t, sentryfake.Options{})
	srv.AddMonitor("nightly")
	var logs bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
	inst, err := target{}.Configure(t.Context(), sdk.ConfigureRequest{Instance: "s", Settings: mustJSON(t, conf{"dsn": srv.DSN(), "monitor_slug": "nightly", "upsert": true}), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	beats := []sdk.Beat{
		{Heartbeat: "fast", Schedule: sdk.Schedule{Frequency: "every 30 seconds"}},
		{Heartbeat: "fast", Schedule: sdk.Schedule{Frequency: "every 30 seconds"}},
		{Heartbeat: "fast", Schedule: sdk.Schedule{Frequency: "every 30 seconds"}},
		{Heartbeat: "x\nforged log line", Schedule: sdk.Schedule{Frequency: "at 10:15 am\nforged"}},
		{Heartbeat: "one-shot"},
	}
	for i, b := range beats {
		b.Signal, b.Sequence = sdk.SignalSuccess, uint64(i)
		if _, err := inst.Beat(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		if r := lastCheckIn(t, srv); r.CheckIn.MonitorConfig != nil || r.Dropped != "" {
			t.Errorf("beat %d: monitor_config %+v, dropped %q; want a plain check-in stored", i, r.CheckIn.MonitorConfig, r.Dropped)
		}
	}
	out := logs.String()
	for _, want := range []string{"count minutes at the least", "set schedule", "no schedule"} {
		if n := strings.Count(out, want); n < 1 {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "go without the monitor's schedule"); n != 3 {
		t.Errorf("%d warnings, want 3 (one per schedule):\n%s", n, out)
	}
	if strings.Contains(out, "\nforged") || strings.Contains(out, srv.PublicKey()) {
		t.Errorf("log holds a raw line break from outside or the key:\n%s", out)
	}
}

// Warnings stop after maxUnmapped schedules: a flood of distinct ones does
// not flood the log.
func TestUnmappedWarningsAreBounded(t *testing.T) {
	srv := sentryfake.New(t, sentryfake.Options{})
	srv.AddMonitor("nightly")
	var logs bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
	cfg, err := parseSettings(sdk.Settings(mustJSON(t, conf{"dsn": srv.DSN(), "monitor_slug": "nightly", "upsert": true})), logger)
	if err != nil {
		t.Fatal(err)
	}
	in := newInstance(cfg, nil, logger)
	for i := range 3 * maxUnmapped {
		if m := in.monitorFor(sdk.Beat{Heartbeat: "hb", Schedule: sdk.Schedule{Frequency: "at " + strings.Repeat("1", i+1)}}); m != nil {
			t.Fatalf("monitor_config %+v for an unmappable schedule", m)
		}
	}
	if n := strings.Count(logs.String(), "go without the monitor's schedule"); n != maxUnmapped {
		t.Errorf("%d warnings, want %d", n, maxUnmapped)
	}
}
