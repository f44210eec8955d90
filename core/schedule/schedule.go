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

// Parse parses a later.js text expression; evaluated in UTC. A
// frequency that never fires (again) is an error; it is a
// *NeverFiresError, which still holds the schedule for debugging views.
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
		return nil, &NeverFiresError{Schedule: s, msg: fmt.Sprintf("frequency %q never fires again (no occurrence before 2100)", expr)}
	}
	if _, ok := s.NextFire(time.UnixMilli(now)); !ok {
		if len(s.prog.scheds) == 0 {
			return nil, &NeverFiresError{Schedule: s, msg: fmt.Sprintf("frequency %q never fires: it says nothing about when to fire", expr)}
		}
		return nil, &NeverFiresError{Schedule: s, msg: fmt.Sprintf("frequency %q never fires again (no occurrence before 2100)", expr)}
	}
	return s, nil
}

// NeverFiresError reports a frequency that parses but never fires again.
type NeverFiresError struct {
	// Schedule is the parsed frequency, for views that show what later.js
	// computes for it anyway.
	Schedule *Schedule
	msg      string
}

func (e *NeverFiresError) Error() string { return e.msg }

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

// zeroDelayWarning is the warning for a frequency whose later.js timer
// fires again less than a second after each fire.
const zeroDelayWarning = "later.js fires this frequency less than a second after each fire (every millisecond for a range that ends before it starts); heartbeat waits 1s between beats instead, so it beats every second"

// zeroDelayLookahead is how many fires WarningsAt follows.
const zeroDelayLookahead = 10

// HeldRun is how many fires in a row NextBeat must hold back before a
// frequency counts as one that later.js fires with (almost) no delay. A
// single held fire is not such a frequency: a timer started just before
// an occurrence (every 1 minute at hh:mm:59.7) fires once too soon in
// later.js, then on time.
const HeldRun = 2

// WarningsAt is Warnings plus what the fire times from now show: a
// frequency that later.js fires again less than a second after each fire,
// which the daemon slows to one beat a second.
func (s *Schedule) WarningsAt(now time.Time) []string {
	w := s.Warnings()
	prev, run := now, 0
	for i := 0; i < zeroDelayLookahead; i++ {
		next, ok, held := s.NextBeat(prev, prev)
		if !ok {
			break
		}
		if run = heldRun(run, held); run >= HeldRun {
			return append(w, zeroDelayWarning)
		}
		prev = next
	}
	return w
}

func heldRun(run int, held bool) int {
	if held {
		return run + 1
	}
	return 0
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

// MinInterval is the shortest time between two beats of one heartbeat.
// later.js's setInterval waits this long when its next occurrence is
// under a second away and there is no second one; when the second one is
// under a second away too it fires sooner, for some frequencies after
// every fire and with no delay at all (every millisecond), which the
// daemon never does.
const MinInterval = time.Second

// NextBeat is the fire time the daemon uses after a beat that was due at
// prev and fired at now (prev == now for the start-up beat and for an
// ideal timer). For a later.js frequency it is NextFire(now), never
// sooner than MinInterval after now; held reports that later.js would
// have fired sooner (HeldRun such fires in a row make a frequency that
// later.js fires with no delay). A cron expression fires at its listed
// times: the first one after now that is at least MinInterval after prev.
func (s *Schedule) NextBeat(prev, now time.Time) (next time.Time, ok, held bool) {
	if s.cron != nil {
		from := now
		if f := prev.Add(MinInterval - time.Nanosecond); f.After(from) {
			from = f
		}
		next, ok = s.cronNextFire(from)
		return next, ok, false
	}
	if prev.After(now) {
		now = prev
	}
	next, ok = s.NextFire(now)
	if !ok {
		return next, false, false
	}
	cur := toMS(now)
	floor := float64(cur) + float64(MinInterval/time.Millisecond)
	if float64(toMS(next)) >= floor {
		return next, true, false
	}
	if floor >= end2100 {
		return time.Time{}, false, false
	}
	return time.UnixMilli(int64(floor)).In(s.location()), true, true
}
