package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestNextCommand(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    string
		stderrHas []string
	}{
		{"fires", []string{"next", "--from", "2026-01-01T00:00:00Z", "-n", "3", "every 5 minutes"}, exitOK,
			"2026-01-01T00:05:00Z\n2026-01-01T00:10:00Z\n2026-01-01T00:15:00Z\n", nil},
		{"raw includes from", []string{"next", "--raw", "--from", "2026-01-01T00:00:30Z", "-n", "2", "every 1 hour"}, exitOK,
			"2026-01-01T00:00:30Z\n2026-01-01T01:00:00Z\n", nil},
		{"milliseconds kept", []string{"next", "--from", "2027-02-27T10:00:00.500Z", "-n", "1", "every 15 sec"}, exitOK,
			"2027-02-27T10:00:15.500Z\n", nil},
		{"flags after the expression", []string{"next", "every 1 hour", "-n", "1", "--from", "2026-01-01T00:00:00Z"}, exitOK,
			"2026-01-01T01:00:00Z\n", nil},
		{"cron", []string{"next", "--cron", "--from", "2026-01-01T00:00:00Z", "-n", "2", "30 2 * * *"}, exitOK,
			"2026-01-01T02:30:00Z\n2026-01-02T02:30:00Z\n", nil},
		{"time zone", []string{"next", "--timezone", "Europe/Stockholm", "--from", "2026-06-01T12:00:00Z", "-n", "1", "every 1 day"}, exitOK,
			"2026-06-01T22:00:00Z\n", nil},
		{"bad frequency", []string{"next", "every 5 minz"}, exitInvalid, "", []string{"position 8", "every 5 minz", "       ^"}},
		{"trailing space", []string{"next", "every 1 hour  "}, exitInvalid, "", []string{"position 14"}},
		{"bad from", []string{"next", "--from", "yesterday", "every 1 hour"}, exitInvalid, "", []string{"RFC3339"}},
		{"no expression", []string{"next"}, exitInvalid, "", []string{"usage"}},
		{"bad count", []string{"next", "-n", "0", "every 1 hour"}, exitInvalid, "", []string{"-n must be"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			if tt.stdout != "" && stdout.String() != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), tt.stdout)
			}
			for _, w := range tt.stderrHas {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

// The daemon's times (with the one-second floor) versus later's own
// answer in --raw, and frequencies whose fire chain is empty after --from.
func TestNextFloorNeverAndRaw(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		code        int
		stdout      string // exact, empty included
		stderrHas   []string
		stderrLacks []string
	}{
		{name: "zero-delay frequency: one beat a second, with a note",
			args:   []string{"next", "--from", "2026-03-16T08:58:00.400Z", "-n", "3", "on the 22nd through 2nd hour"},
			code:   exitOK,
			stdout: "2026-03-16T08:58:01.400Z\n2026-03-16T08:58:02.400Z\n2026-03-16T08:58:03.400Z\n", stderrHas: []string{"less than a second after each fire", "waits 1s"}},
		{name: "zero-delay frequency raw: later's own next",
			args:   []string{"next", "--raw", "--from", "2026-03-16T08:58:00.400Z", "-n", "2", "on the 22nd through 2nd hour"},
			code:   exitOK,
			stdout: "2026-03-16T08:58:00.400Z\n2026-03-16T08:58:00.400Z\n", stderrLacks: []string{"never"}},
		{name: "every 0 seconds is every second",
			args:   []string{"next", "--from", "2026-03-16T08:58:00Z", "-n", "2", "every 0 seconds"},
			code:   exitOK,
			stdout: "2026-03-16T08:58:01Z\n2026-03-16T08:58:02Z\n", stderrLacks: []string{"after each fire"}},
		{name: "last occurrence before from",
			args:   []string{"next", "--from", "2031-01-01T00:00:00Z", "at 12:00 on the 1st day of jan in 2030"},
			code:   exitInvalid,
			stdout: "", stderrHas: []string{"never fires after 2031-01-01T00:00:00Z", "at 12:00 on the 1st day of jan in 2030"}},
		{name: "last occurrences after from",
			args:   []string{"next", "--from", "2030-01-01T11:00:00Z", "-n", "5", "at 12:00 on the 1st day of jan in 2030"},
			code:   exitOK,
			stdout: "2030-01-01T12:00:00Z\n2030-01-01T12:00:01Z\n", stderrHas: []string{"no further fire"}},
		{name: "past year from its last second: later's extra fire a second later",
			args:   []string{"next", "--from", "2025-12-31T23:59:59Z", "-n", "2", "in 2025"},
			code:   exitOK,
			stdout: "2026-01-01T00:00:00Z\n", stderrHas: []string{"no further fire"}},
		{name: "past year without from",
			args:   []string{"next", "in 2025"},
			code:   exitInvalid,
			stdout: "", stderrHas: []string{"never fires again"}},
		{name: "raw with an empty chain",
			args:   []string{"next", "--raw", "--from", "2031-01-01T00:00:00Z", "at 12:00 on the 1st day of jan in 2030"},
			code:   exitOK,
			stdout: "", stderrHas: []string{"the daemon would never fire this frequency after 2031-01-01T00:00:00Z"}},
		{name: "raw past 2099",
			args:   []string{"next", "--raw", "--from", "2026-01-01T00:00:00Z", "-n", "2", "on the 32nd day of the month"},
			code:   exitOK,
			stdout: "2109-05-01T00:00:00Z\n2192-09-01T00:00:00Z\n", stderrHas: []string{"the daemon would never fire"}},
		{name: "raw with nothing to fire on",
			args:   []string{"next", "--raw", "except"},
			code:   exitOK,
			stdout: "", stderrHas: []string{"the daemon would never fire"}},
		{name: "never fires, from given",
			args:   []string{"next", "--from", "2026-01-01T00:00:00Z", "on the 32nd day of the month"},
			code:   exitInvalid,
			stdout: "", stderrHas: []string{"never fires after 2026-01-01T00:00:00Z"}},
		{name: "started just before an occurrence: one fire held back, no note",
			args:   []string{"next", "--from", "2026-03-16T16:20:59.712Z", "-n", "2", "every 1 minute"},
			code:   exitOK,
			stdout: "2026-03-16T16:21:00.712Z\n2026-03-16T16:22:00Z\n", stderrLacks: []string{"after each fire"}},
		{name: "raw of a frequency that fires has no note",
			args:   []string{"next", "--raw", "--from", "2026-01-01T00:00:30Z", "-n", "1", "every 1 hour"},
			code:   exitOK,
			stdout: "2026-01-01T00:00:30Z\n", stderrLacks: []string{"never"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			if stdout.String() != tt.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), tt.stdout)
			}
			for _, w := range tt.stderrHas {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			for _, w := range tt.stderrLacks {
				if strings.Contains(stderr.String(), w) {
					t.Errorf("stderr should not say %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}
