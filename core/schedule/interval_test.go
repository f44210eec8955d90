package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// NextBeat follows later's timer but never fires sooner than MinInterval
// after the previous fire.
func TestNextBeat(t *testing.T) {
	tests := []struct {
		name     string
		expr     string
		cron     bool
		prev     string // the previous fire was due here...
		now      string // ...and ran here ("" = prev)
		want     string // "" = never
		wantHeld bool
	}{
		// later's chain repeats the current instant: it would fire 1ms later.
		{name: "reversed range", expr: "on the 22nd through 2nd hour", prev: "2026-03-16T08:58:00.400Z", want: "2026-03-16T08:58:01.400Z", wantHeld: true},
		{name: "reversed range, fired late", expr: "on the 22nd through 2nd hour", prev: "2026-03-16T08:58:00Z", now: "2026-03-16T08:58:00.250Z", want: "2026-03-16T08:58:01.250Z", wantHeld: true},
		{name: "every 0 seconds is every second", expr: "every 0 seconds", prev: "2026-03-16T08:58:00Z", want: "2026-03-16T08:58:01Z"},
		{name: "every 1 second keeps the sub-second part", expr: "every 1 second", prev: "2026-03-16T08:58:00.712Z", want: "2026-03-16T08:58:01.712Z"},
		{name: "later's own one-second fallback", expr: "in 2027", prev: "2027-01-01T00:00:00Z", want: "2027-01-01T00:00:01Z"},
		{name: "ordinary", expr: "every 5 minutes", prev: "2026-03-16T08:58:00Z", want: "2026-03-16T09:00:00Z"},
		{name: "the floor never passes 2100", expr: "on the 22nd through 2nd hour", prev: "2099-12-31T23:59:59.500Z", want: ""},
		{name: "cron: a listed second at least a second after the start", expr: "* * * * * *", cron: true, prev: "2026-03-16T08:58:00.400Z", want: "2026-03-16T08:58:02Z"},
		{name: "cron: on time after a late fire", expr: "* * * * * *", cron: true, prev: "2026-03-16T08:58:01Z", now: "2026-03-16T08:58:01.020Z", want: "2026-03-16T08:58:02Z"},
		{name: "cron: very late fire goes on from now", expr: "* * * * * *", cron: true, prev: "2026-03-16T08:58:01Z", now: "2026-03-16T08:58:05.500Z", want: "2026-03-16T08:58:06Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s *Schedule
			var err error
			if tc.cron {
				s, err = ParseCron(tc.expr)
			} else {
				s, err = parseText(tc.expr, mustTime(t, tc.prev))
			}
			if err != nil {
				t.Fatal(err)
			}
			prev := mustTime(t, tc.prev)
			now := prev
			if tc.now != "" {
				now = mustTime(t, tc.now)
			}
			got, ok, held := s.NextBeat(prev, now)
			if tc.want == "" {
				if ok {
					t.Errorf("NextBeat = %v, want none", got)
				}
				return
			}
			if !ok || !got.Equal(mustTime(t, tc.want)) {
				t.Errorf("NextBeat = %v (ok %v), want %s", got, ok, tc.want)
			}
			if held != tc.wantHeld {
				t.Errorf("held = %v, want %v", held, tc.wantHeld)
			}
			if ok && got.Sub(now) < MinInterval && got.Sub(prev) < MinInterval {
				t.Errorf("next fire %v is under %s after the previous one", got, MinInterval)
			}
		})
	}
}

// Without the floor, later's timer fires the reversed range every
// millisecond: NextFire stays later's exact rule, for comparison.
func TestNextFireKeepsLaterZeroDelay(t *testing.T) {
	from := mustTime(t, "2026-03-16T08:58:00.400Z")
	s, err := parseText("on the 22nd through 2nd hour", from)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s.NextFire(from); !ok || got.Sub(from) != time.Millisecond {
		t.Errorf("NextFire = %v (ok %v), want later's 1ms", got, ok)
	}
}

func TestWarningsAt(t *testing.T) {
	now := mustTime(t, "2026-03-16T08:58:00Z")
	tests := []struct {
		expr    string
		contain []string
		lacks   []string
	}{
		{expr: "on the 22nd through 2nd hour", contain: []string{"ends before it starts", "less than a second after each fire", "every second"}},
		{expr: "every 0 seconds", contain: []string{"'every 0' is read as 'every 1'", "every 1 second"}, lacks: []string{"after each fire"}},
		{expr: "every 0 minutes", contain: []string{"'every 0' is read as 'every 1'", "every 1 minute"}},
		{expr: "every 0 hours starting on the 2nd hour", contain: []string{"'every 0' is read as 'every 1'"}},
		{expr: "every 1 second", lacks: []string{"every 0", "after each fire"}},
		{expr: "every 10 seconds", lacks: []string{"every 0", "after each fire"}},
		{expr: "every 5 minutes", lacks: []string{"every 0", "after each fire"}},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			s, err := parseText(tc.expr, now)
			if err != nil {
				t.Fatal(err)
			}
			w := strings.Join(s.WarningsAt(now), "\n")
			for _, c := range tc.contain {
				if !strings.Contains(w, c) {
					t.Errorf("warnings lack %q:\n%s", c, w)
				}
			}
			for _, c := range tc.lacks {
				if strings.Contains(w, c) {
					t.Errorf("warnings should not say %q:\n%s", c, w)
				}
			}
		})
	}
}

// A frequency that never fires is an error that still carries the
// schedule, for debugging views.
func TestNeverFiresErrorCarriesSchedule(t *testing.T) {
	for _, expr := range []string{"on the 32nd day of the month", "in 2025", "except"} {
		t.Run(expr, func(t *testing.T) {
			s, err := Parse(expr)
			var nf *NeverFiresError
			if s != nil || !errors.As(err, &nf) || nf.Schedule == nil || nf.Schedule.String() != expr {
				t.Fatalf("Parse(%q) = %v, %v; want a NeverFiresError with the schedule", expr, s, err)
			}
			if !strings.Contains(err.Error(), "never fires") {
				t.Errorf("error %q", err)
			}
		})
	}
}

// A timer started just before an occurrence fires once too soon in
// later.js: NextBeat holds that one fire back, and it is no zero-delay
// frequency.
func TestOneHeldFireIsNoZeroDelay(t *testing.T) {
	from := mustTime(t, "2026-03-16T16:20:59.712Z")
	s, err := parseText("every 1 minute", from)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := s.NextFire(from); !ok || !got.Equal(mustTime(t, "2026-03-16T16:21:00Z")) {
		t.Fatalf("NextFire = %v, want later's 16:21:00 (288ms later)", got)
	}
	next, ok, held := s.NextBeat(from, from)
	if !ok || !held || !next.Equal(mustTime(t, "2026-03-16T16:21:00.712Z")) {
		t.Errorf("NextBeat = %v held %v, want 16:21:00.712, held", next, held)
	}
	next, ok, held = s.NextBeat(next, next)
	if !ok || held || !next.Equal(mustTime(t, "2026-03-16T16:22:00Z")) {
		t.Errorf("then NextBeat = %v held %v, want 16:22:00, not held", next, held)
	}
	if w := strings.Join(s.WarningsAt(from), "\n"); strings.Contains(w, "after each fire") {
		t.Errorf("warned as zero-delay: %s", w)
	}
}
