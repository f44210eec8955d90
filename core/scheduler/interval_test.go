package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
)

func cronJob(t *testing.T, name, expr string) Job {
	t.Helper()
	s, err := schedule.ParseCron(expr)
	if err != nil {
		t.Fatalf("parse cron %q: %v", expr, err)
	}
	return Job{Name: name, Schedule: s, Key: expr}
}

// A frequency that later.js fires with no delay (its chain repeats the
// current instant) beats once a second, with a usable Next, and says so
// once.
func TestZeroDelayFrequencyBeatsOnceASecond(t *testing.T) {
	tests := []struct {
		name     string
		job      func(t *testing.T) Job
		start    time.Time
		until    time.Time
		want     []time.Time
		wantHeld bool // the zero-delay warning is logged (once)
	}{
		{
			name:     "reversed hour range",
			job:      func(t *testing.T) Job { return job(t, "hb", "on the 22nd through 2nd hour") },
			start:    t0,
			until:    t0.Add(4 * time.Second),
			want:     clock("2024-03-01T10:00:00Z", "2024-03-01T10:00:01Z", "2024-03-01T10:00:02Z", "2024-03-01T10:00:03Z", "2024-03-01T10:00:04Z"),
			wantHeld: true,
		},
		{
			name:  "every 0 seconds is every second",
			job:   func(t *testing.T) Job { return job(t, "hb", "every 0 seconds") },
			start: t0,
			until: t0.Add(4 * time.Second),
			want:  clock("2024-03-01T10:00:00Z", "2024-03-01T10:00:01Z", "2024-03-01T10:00:02Z", "2024-03-01T10:00:03Z", "2024-03-01T10:00:04Z"),
		},
		{
			// later.js would fire 288ms after the start-up beat, once.
			name:  "started just before an occurrence",
			job:   func(t *testing.T) Job { return job(t, "hb", "every 1 minute") },
			start: t0.Add(59*time.Second + 712*time.Millisecond),
			until: t0.Add(2 * time.Minute),
			want:  []time.Time{t0.Add(59*time.Second + 712*time.Millisecond), t0.Add(time.Minute + 712*time.Millisecond), t0.Add(2 * time.Minute)},
		},
		{
			// A cron second comes 600ms after the start-up beat: the
			// first fire is the listed second after that.
			name:  "cron every second started mid-second",
			job:   func(t *testing.T) Job { return cronJob(t, "hb", "* * * * * *") },
			start: t0.Add(400 * time.Millisecond),
			until: t0.Add(4 * time.Second),
			want:  []time.Time{t0.Add(400 * time.Millisecond), t0.Add(2 * time.Second), t0.Add(3 * time.Second), t0.Add(4 * time.Second)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := tc.job(t)
			h := start(t, tc.start, time.Second, nil, j)
			// Every sleep is a real wait: a zero-delay chain would park
			// for a millisecond at a time.
			sleeps := 0
			for h.clk.Now().Before(tc.until) {
				if d := h.park(); d <= 0 {
					t.Fatalf("the scheduler sleeps %s", d)
				}
				sleeps++
				if sleeps > 100 {
					t.Fatalf("%d sleeps before %v: the scheduler spins", sleeps, tc.until)
				}
				h.wake(0)
			}
			h.park()
			h.stop()
			got := h.ticksOf("hb")
			var gotAt []string
			for _, tk := range got {
				gotAt = append(gotAt, tk.ScheduledAt.UTC().Format(time.RFC3339Nano))
			}
			var wantAt []string
			for _, w := range tc.want {
				wantAt = append(wantAt, w.UTC().Format(time.RFC3339Nano))
			}
			if strings.Join(gotAt, " ") != strings.Join(wantAt, " ") {
				t.Errorf("beats at\n  %s\nwant\n  %s", strings.Join(gotAt, " "), strings.Join(wantAt, " "))
			}
			for i, tk := range got {
				if gap := tk.Next.Sub(tk.ScheduledAt); gap < schedule.MinInterval {
					t.Errorf("tick %d at %v announces its next beat %s later, want at least %s", i+1, tk.ScheduledAt, gap, schedule.MinInterval)
				}
			}
			logs := h.logs.String()
			held := strings.Count(logs, "would fire this frequency less than a second after each fire")
			if tc.wantHeld && held != 1 || !tc.wantHeld && held != 0 {
				t.Errorf("zero-delay warning logged %d times, want it once only for a zero-delay frequency (%v):\n%s", held, tc.wantHeld, logs)
			}
		})
	}
}

// After a clock set back, a zero-delay frequency is planned again with
// the same floor: no burst.
func TestZeroDelayAfterClockWentBack(t *testing.T) {
	h := start(t, t0, time.Second, nil, job(t, "hb", "on the 22nd through 2nd hour"))
	h.runUntil(t0.Add(2 * time.Second))
	h.wake(-time.Hour)
	h.runUntil(t0.Add(-time.Hour + 3*time.Second))
	h.stop()
	got := h.ticksOf("hb")
	if len(got) > 7 {
		t.Fatalf("%d beats in 5 seconds of wall clock, want at most one a second: %v", len(got), scheduledAt(got[:7]))
	}
	for i := 1; i < len(got); i++ {
		if got[i].ScheduledAt.Equal(got[i-1].ScheduledAt) {
			t.Errorf("beats %d and %d are both at %v", i, i+1, got[i].ScheduledAt)
		}
	}
	if n := strings.Count(h.logs.String(), "would fire this frequency less than a second after each fire"); n != 1 {
		t.Errorf("zero-delay warning logged %d times, want once:\n%s", n, h.logs.String())
	}
}
