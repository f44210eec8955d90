package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

func TestConfigureLevel(t *testing.T) {
	tests := []struct {
		settings string
		desc     string
		field    string
	}{
		{`{}`, "log at info", ""},
		{``, "log at info", ""},
		{`{"level":""}`, "log at info", ""},
		{`{"level":"trace"}`, "log at trace", ""},
		{`{"level":"debug"}`, "log at debug", ""},
		{`{"level":"info"}`, "log at info", ""},
		{`{"level":"warn"}`, "log at warn", ""},
		{`{"level":"error"}`, "log at error", ""},
		{`{"level":" WARN "}`, "log at warn", ""},
		{`{"level":"verbose"}`, "", "level"},
		{`{"level":"off"}`, "", "level"},
		{`{"level":3}`, "", "level"},
		{`{"lvl":"info"}`, "", "lvl"},
	}
	for _, tc := range tests {
		t.Run(tc.settings, func(t *testing.T) {
			c := sdktest.Dial(t, target{})
			desc, err := c.Configure(context.Background(), "watch", []byte(tc.settings))
			if tc.field == "" {
				if err != nil || desc != tc.desc {
					t.Errorf("Configure = %q, %v; want %q", desc, err, tc.desc)
				}
				return
			}
			var fes sdk.FieldErrors
			if !errors.As(err, &fes) || len(fes) != 1 || fes[0].Field != tc.field {
				t.Errorf("Configure error = %#v; want one error naming %s", err, tc.field)
			}
		})
	}
}

func TestBeatIsLogged(t *testing.T) {
	c := sdktest.Dial(t, target{})
	if _, err := c.Configure(context.Background(), "watch", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	for _, signal := range []sdk.Signal{sdk.SignalSuccess, sdk.SignalStart, sdk.SignalFail, sdk.SignalLog} {
		res, err := c.Beat(context.Background(), "watch", sdk.Beat{Heartbeat: "hb", Signal: signal, Sequence: 3, Attempt: 1})
		if err != nil || res.Detail != "logged" {
			t.Errorf("%s: Beat = %+v, %v; want detail \"logged\"", signal, res, err)
		}
	}
	if info := (target{}).Info(); len(info.Signals) != 4 || info.Name != "log" {
		t.Errorf("Info = %+v; want all four signals", info)
	}
}

// The beat line, as the core's log shows it, at the configured level.
func TestBeatLine(t *testing.T) {
	exit := 2
	tests := []struct {
		name   string
		level  string
		beat   sdk.Beat
		want   []string
		absent []string
	}{
		{
			name:   "success at info",
			beat:   sdk.Beat{Heartbeat: "butler-sos", Signal: sdk.SignalSuccess, Sequence: 12, ScheduledAt: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)},
			want:   []string{"[INFO]", "beat received", "heartbeat=butler-sos", "signal=success", "sequence=12", "scheduled_at=2024-03-01T10:00:00.000Z"},
			absent: []string{"message=", "exit_code="},
		},
		{
			name:   "fail with details at warn",
			level:  "warn",
			beat:   sdk.Beat{Heartbeat: "backup", Signal: sdk.SignalFail, Sequence: 1, Message: "disk full", RunID: "r1", ExitCode: &exit, CheckLatency: 1500 * time.Millisecond},
			want:   []string{"[WARN]", "signal=fail", `message="disk full"`, "run_id=r1", "exit_code=2", "check_latency=1.5s"},
			absent: []string{"scheduled_at="},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Trace})
			settings := `{}`
			if tc.level != "" {
				settings = `{"level":"` + tc.level + `"}`
			}
			inst, err := target{}.Configure(context.Background(), sdk.ConfigureRequest{Instance: "watch", Settings: sdk.Settings(settings), Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := inst.Beat(context.Background(), tc.beat); err != nil {
				t.Fatal(err)
			}
			line := buf.String()
			if strings.Count(line, "\n") != 1 {
				t.Errorf("want one line, got:\n%s", line)
			}
			for _, w := range tc.want {
				if !strings.Contains(line, w) {
					t.Errorf("line lacks %q: %s", w, line)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(line, a) {
					t.Errorf("line has %q: %s", a, line)
				}
			}
		})
	}
}

// The fields of a beat line come in alphabetical order of their keys, the
// order docs/targets/log.md shows and the core writes plugin fields in.
func TestBeatLineKeyOrder(t *testing.T) {
	exit := 0
	beats := []sdk.Beat{
		{Heartbeat: "hb", Signal: sdk.SignalSuccess, Sequence: 1},
		{Heartbeat: "hb", Signal: sdk.SignalSuccess, Sequence: 2, ScheduledAt: time.Now()},
		{Heartbeat: "hb", Signal: sdk.SignalFail, Sequence: 3, ScheduledAt: time.Now(), Message: "m", RunID: "r", ExitCode: &exit, CheckLatency: 1234567 * time.Nanosecond},
	}
	for _, b := range beats {
		var buf bytes.Buffer
		logger := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Trace})
		inst, err := target{}.Configure(context.Background(), sdk.ConfigureRequest{Instance: "watch", Settings: sdk.Settings(`{}`), Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := inst.Beat(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		_, fields, _ := strings.Cut(buf.String(), "beat received: ")
		var keys []string
		for _, f := range strings.Fields(fields) {
			if k, _, ok := strings.Cut(f, "="); ok && !strings.ContainsAny(k, `"`) {
				keys = append(keys, k)
			}
		}
		if !slices.IsSorted(keys) || len(keys) < 3 {
			t.Errorf("keys %v are not in alphabetical order: %s", keys, buf.String())
		}
		if b.CheckLatency > 0 && !strings.Contains(buf.String(), "check_latency=1ms") {
			t.Errorf("check latency not rounded to milliseconds: %s", buf.String())
		}
	}
}

// Every invalid setting comes back in one answer: an unknown key does not
// hide a bad level.
func TestConfigureReportsEveryErrorAtOnce(t *testing.T) {
	c := sdktest.Dial(t, target{})
	_, err := c.Configure(context.Background(), "watch", []byte(`{"level": "loud", "colour": "red"}`))
	fes := sdk.AsFieldErrors(err)
	var fields []string
	for _, fe := range fes {
		fields = append(fields, fe.Field)
	}
	slices.Sort(fields)
	if !slices.Equal(fields, []string{"colour", "level"}) {
		t.Errorf("field errors %v (%v), want colour and level together", fields, err)
	}
}
