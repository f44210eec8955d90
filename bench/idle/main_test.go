//go:build linux

package main

import (
	"testing"
	"time"
)

func TestUntilClearOfTheHour(t *testing.T) {
	india := time.FixedZone("IST", 5*3600+1800)
	for _, tc := range []struct {
		name string
		now  time.Time
		need time.Duration
		want time.Duration
	}{
		{"clear", time.Date(2026, 12, 5, 18, 10, 0, 0, time.UTC), 2 * time.Minute, 0},
		{"ends on the hour", time.Date(2026, 12, 5, 18, 58, 0, 0, time.UTC), 2 * time.Minute, 2*time.Minute + 2*time.Second},
		{"crosses the hour", time.Date(2026, 12, 5, 18, 59, 30, 0, time.UTC), 2 * time.Minute, 32 * time.Second},
		{"just past the hour", time.Date(2026, 12, 5, 19, 0, 1, 0, time.UTC), 2 * time.Minute, 0},
		{"an hour or more cannot be kept clear", time.Date(2026, 12, 5, 18, 59, 30, 0, time.UTC), time.Hour, 0},
		{"crosses the local hour only", time.Date(2026, 12, 5, 18, 29, 0, 0, time.UTC).In(india), 2 * time.Minute, time.Minute + 2*time.Second},
		{"crosses the UTC hour only", time.Date(2026, 12, 5, 18, 59, 0, 0, time.UTC).In(india), 2 * time.Minute, time.Minute + 2*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := untilClearOfTheHour(tc.now, tc.need); got != tc.want {
				t.Errorf("untilClearOfTheHour(%s, %s) = %s, want %s", tc.now, tc.need, got, tc.want)
			}
		})
	}
}
