// Package schedule parses heartbeat frequencies and computes when they fire.
//
// Frequencies use the later.js text syntax ("every 1 hour", "at 9:00 am on
// mon through fri", ...) and are evaluated exactly as @breejs/later 4.2.0
// evaluates them, quirks included, so that a configuration behaves as it
// did under later.js. Cron expressions are accepted through ParseCron.
package schedule

import (
	"fmt"
	"math"
	"time"
)

// Schedule is a parsed frequency. It is immutable and safe for concurrent use.
type Schedule struct {
	expr string
	loc  *time.Location
	prog *program  // later.js text schedule
	cron cronSched // cron schedule
}

// cronSched is the part of a cron library schedule we use.
type cronSched interface {
	Next(time.Time) time.Time
}

// Parse parses a later.js text expression; evaluated in UTC.
func Parse(expr string) (*Schedule, error) {
	now := wallClockMS()
	s, err := parseTextAt(expr, now)
	if err != nil {
		return nil, err
	}
	if s.prog.firesSoon(now) {
		return s, nil
	}
	if s.prog.neverFires(now) {
		return nil, fmt.Errorf("frequency %q never fires again (no occurrence before 2100)", expr)
	}
	if _, ok := s.NextFire(time.UnixMilli(now)); !ok {
		if len(s.prog.scheds) == 0 {
			return nil, fmt.Errorf("frequency %q never fires: it says nothing about when to fire", expr)
		}
		return nil, fmt.Errorf("frequency %q never fires again (no occurrence before 2100)", expr)
	}
	return s, nil
}

// parseText parses expr without checking that it still fires; compiledAt
// stands for the moment later.js would compile it, which later consults
// for the length of the current month in "after"/"before" day rules.
func parseText(expr string, compiledAt time.Time) (*Schedule, error) {
	return parseTextAt(expr, toMS(compiledAt))
}

// parseTextAt is parseText with the compile time in milliseconds since
// the epoch.
func parseTextAt(expr string, compiledAt int64) (*Schedule, error) {
	// The parser stays on the stack: the schedule is all that is
	// allocated for a typical frequency.
	var p parser
	p.init(expr, false)
	p.run()
	if err := p.failure(expr); err != nil {
		return nil, err
	}
	return p.b.compile(expr, compiledAt), nil
}

// In returns a copy of s evaluated in loc (documented extension `timezone:`); nil loc = UTC.
func (s *Schedule) In(loc *time.Location) *Schedule {
	c := *s
	if loc == time.UTC {
		loc = nil
	}
	c.loc = loc
	return &c
}

// String returns the expression as written.
func (s *Schedule) String() string { return s.expr }

// Warnings lists behaviours few users mean, worded for users.
func (s *Schedule) Warnings() []string {
	if s.prog == nil {
		return nil // cron
	}
	// Few callers ask, so the expression, which parsed before, is parsed
	// again rather than its warnings kept in every schedule.
	var p parser
	p.init(s.expr, true)
	p.run()
	return textWarnings(&p.b)
}

func (s *Schedule) location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// toMS floors t to whole milliseconds since the epoch; ok=false outside
// the range of a JavaScript Date.
func toMS(t time.Time) int64 {
	sec := t.Unix()
	if sec > 8.64e12 || sec < -8.64e12 {
		return math.MinInt64
	}
	return sec*1000 + int64(t.Nanosecond())/1e6
}

func msOK(ms int64) bool { return ms != math.MinInt64 && ms <= 8.64e15 && ms >= -8.64e15 }

// Next is later's schedule.next(n, from): up to n occurrences (may include from itself).
func (s *Schedule) Next(n int, from time.Time) []time.Time {
	if n <= 0 {
		return nil
	}
	if n > maxAttempts {
		n = maxAttempts
	}
	if s.cron != nil {
		return s.cronNext(n, from)
	}
	var buf [16]float64
	ms := s.nextMS(n, toMS(from), buf[:0])
	if len(ms) == 0 {
		return nil
	}
	out := make([]time.Time, 0, len(ms))
	loc := s.location()
	for _, t := range ms {
		if isNaN(t) {
			break // later yields an invalid Date here; nothing after it is usable
		}
		out = append(out, time.UnixMilli(int64(t)).In(loc))
	}
	return out
}

// nextMS runs later's search from the instant from, translating to and
// from the wall clock of s.loc; the result reuses buf when it fits.
func (s *Schedule) nextMS(n int, from int64, buf []float64) []float64 {
	if !msOK(from) {
		return nil
	}
	if s.loc == nil {
		res, _ := s.prog.next(n, float64(from), buf)
		return res
	}
	ft := time.UnixMilli(from).In(s.loc)
	_, off := ft.Zone()
	wall := from + int64(off)*1000
	res, _ := s.prog.next(n, float64(wall), buf)
	out := res[:0]
	prev := float64(from) - 1
	for _, w := range res {
		if isNaN(w) {
			out = append(out, w)
			break
		}
		u := time.UnixMilli(int64(w)).UTC()
		abs := time.Date(u.Year(), u.Month(), u.Day(), u.Hour(), u.Minute(), u.Second(), u.Nanosecond(), s.loc)
		a := float64(toMS(abs))
		if a < float64(from) {
			a = float64(from)
		}
		if a <= prev {
			continue // a wall time repeated or skipped by a clock change
		}
		out = append(out, a)
		prev = a
	}
	return out
}

// maxSleeps bounds the 2^31-1 ms sleep-and-recompute loop of NextFire;
// it covers any start from year 1 to 2100.
const maxSleeps = 40000

// NextFire is later.setInterval's rule: the instant the timer started/re-armed at `now` fires next,
// strictly after now. ok=false: never fires again (also when the fire would be at/after 2100-01-01).
// Handles the 2^31-1 ms sleep-and-recompute loop internally, bounded.
func (s *Schedule) NextFire(now time.Time) (time.Time, bool) {
	if s.cron != nil {
		return s.cronNextFire(now)
	}
	cur := toMS(now)
	if !msOK(cur) {
		return time.Time{}, false
	}
	for i := 0; i < maxSleeps; i++ {
		if float64(cur) >= end2100 {
			return time.Time{}, false
		}
		// later asks for next(2, now); the first entry does not depend on
		// the count, so the second is only computed when it is needed.
		var buf [2]float64
		res := s.nextMS(1, cur, buf[:0])
		if len(res) == 0 || isNaN(res[0]) {
			return time.Time{}, false
		}
		diff := res[0] - float64(cur)
		if diff < msSec {
			diff = msSec
			if res = s.nextMS(2, cur, buf[:0]); len(res) > 1 && !isNaN(res[1]) {
				diff = res[1] - float64(cur)
			}
		}
		if diff < maxTimeout {
			// A timer never fires sooner than 1 ms after it is set.
			fire := float64(cur) + math.Max(diff, 1)
			if fire >= end2100 {
				return time.Time{}, false
			}
			return time.UnixMilli(int64(fire)).In(s.location()), true
		}
		cur += int64(maxTimeout)
	}
	return time.Time{}, false
}
