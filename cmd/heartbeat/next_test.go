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
