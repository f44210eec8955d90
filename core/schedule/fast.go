package schedule

import "math/bits"

// matcher evaluates a compiled schedule whose constraints are plain
// periods among s, m, h, t, D, d, dc, wy and M, with value lists sorted,
// free of duplicates and inside the period's range (D within 1-28, or
// exactly the last day; dc within 1-5, or exactly the last instance), plus
// at most an "after" and a "before" a time of day. For such a schedule
// each step of later's search moves to the earliest instant where one more
// period matches, so the search ends at the first matching second; the
// matcher finds that second directly with bit masks instead of stepping.
type matcher struct {
	sec, min uint64 // allowed seconds / minutes (bit i = value i)
	woy      uint64 // allowed ISO weeks (bit i = week i); 0: any
	times    []int32
	hour     uint32
	mday     uint32 // allowed days of the month (bit i = day i)
	timesBuf [2]int32
	// winLo <= second of the day < winHi, from "after"/"before" a time.
	winLo, winHi int32
	month        uint16 // allowed months (bit i = month i)
	wday         uint8  // allowed days of the week (bit i = value i, 1 = Sunday)
	dc           uint8  // allowed day instances (bit i = instance i); 0: any
	lastDay      bool   // D is "the last day of the month"
	lastDc       bool   // dc is "the last day instance" (the month's last 7 days)
	hasT         bool
	tick         kind
}

// fastYears bounds the matcher's search: beyond it later's 1000-step budget
// could run out first, so the caller falls back to the step-by-step search.
const fastYears = 15

// weekDays bounds the search when weeks of the year or day instances take
// part. Each step of later's search between days lands on the midnight of
// a later day and a day's time of day takes a handful of steps, so 900
// days stay within its 1000 steps whatever the periods.
const weekDays = 900

// allSecs is a second or minute mask that allows every value.
const allSecs = 1<<60 - 1

// Dates between these bounds are plain for the matcher: years that
// Date.UTC takes as is and whose leap years later computes correctly
// (year % 4 agrees with the Gregorian calendar from 1901 to 2099).
const (
	fastLo = msDay   // 1970-01-02
	fastHi = end2100 // 2100-01-01
)

// newMatcher builds the matcher for cons in buf (allocated when nil), or
// returns nil when the schedule is not one the matcher handles.
func newMatcher(cons []constraint, tick kind, buf *matcher) *matcher {
	f := buf
	if f == nil {
		f = new(matcher)
	}
	// buf is fresh, zeroed memory: setting the fields one by one spares
	// the write barriers of copying a whole matcher into the heap.
	f.sec, f.min, f.hour, f.mday = allSecs, allSecs, 1<<24-1, 0xfffffffe
	f.wday, f.month, f.tick, f.winHi = 0xfe, 1<<13-2, tick, 86400
	for i := range cons {
		c := &cons[i]
		if c.mod != 0 && c.k == kTime && len(c.vals) == 1 && c.mv >= 0 && c.mv <= 86399 && c.mv == float64(int64(c.mv)) {
			// later's step for an unmet "after t" goes to t on the same
			// day and for an unmet "before t" to the next midnight: the
			// earliest instant where it holds, as for the other periods.
			if c.mod == 'a' {
				f.winLo = max(f.winLo, int32(c.mv))
			} else {
				f.winHi = min(f.winHi, int32(c.mv))
			}
			continue
		}
		if c.mod != 0 || len(c.vals) == 0 {
			return nil
		}
		if c.k == kTime {
			if !f.setTimes(c.vals) {
				return nil
			}
			continue
		}
		lo, hi := int64(0), int64(59)
		switch c.k {
		case kSec, kMin:
		case kHour:
			hi = 23
		case kDay:
			if len(c.vals) == 1 && c.vals[0] == 0 {
				f.lastDay, f.mday = true, 0
				continue
			}
			lo, hi = 1, 28
		case kDow:
			lo, hi = 1, 7
		case kDc:
			if len(c.vals) == 1 && c.vals[0] == 0 {
				f.lastDc = true
				continue
			}
			lo, hi = 1, 5
		case kWoy:
			lo, hi = 1, 53
		case kMonth:
			lo, hi = 1, 12
		default:
			return nil
		}
		mask, ok := c.bits(lo, hi)
		if !ok {
			return nil
		}
		switch c.k {
		case kSec:
			f.sec = mask
		case kMin:
			f.min = mask
		case kHour:
			f.hour = uint32(mask)
		case kDay:
			f.mday = uint32(mask)
		case kDow:
			f.wday = uint8(mask)
		case kDc:
			f.dc = uint8(mask)
		case kWoy:
			f.woy = mask
		case kMonth:
			f.month = uint16(mask)
		}
	}
	// Every mask allows some value, so without times or a window some
	// second of the day matches.
	if (f.hasT || f.winLo > 0 || f.winHi < 86400) && f.nextSod(0) < 0 {
		return nil // no second of any day matches: later runs out of steps
	}
	return f
}

// bits is the mask (bit i = value i) of c's values; ok=false unless they
// are whole numbers from lo to hi in strictly increasing order.
func (c *constraint) bits(lo, hi int64) (uint64, bool) {
	vals := c.vals
	n := len(vals)
	if n == 0 || !(vals[0] >= float64(lo) && vals[n-1] <= float64(hi)) {
		return 0, false
	}
	if c.masked {
		return c.mask, true // a shared progression, within range at its ends
	}
	// With the ends in range, increasing values are all in range; the
	// checks of one value do not wait for those of the one before.
	var mask uint64
	bad := false
	prev := vals[0] - 1
	for _, v := range vals {
		i := int64(v)
		bad = bad || float64(i) != v || !(prev < v)
		mask |= 1 << (uint(i) & 63)
		prev = v
	}
	return mask, !bad
}

// setTimes takes the seconds of the day of a "t" period; ok=false unless
// they are whole seconds of a day in strictly increasing order.
func (f *matcher) setTimes(vals []float64) bool {
	if f.times == nil {
		f.times = f.timesBuf[:0]
	}
	prev := int64(-1)
	for _, v := range vals {
		i := int64(v)
		if float64(i) != v || i <= prev || i > 86399 {
			return false
		}
		f.times = append(f.times, int32(i))
		prev = i
	}
	f.hasT = len(vals) > 0
	return true
}

// nextBit is the smallest i >= from with bit i set in m, or 64.
func nextBit(m uint64, from int) int {
	if from >= 64 {
		return 64
	}
	return from + bits.TrailingZeros64(m>>uint(from))
}

// nextSod is the first matching second of a day at or after sod, or -1.
func (f *matcher) nextSod(sod int) int {
	if s := f.nextSodMasks(max(sod, int(f.winLo))); s < int(f.winHi) {
		return s
	}
	return -1
}

// nextSodMasks is nextSod without the after/before window.
func (f *matcher) nextSodMasks(sod int) int {
	if f.hasT {
		free := f.hour == 1<<24-1 && f.min == allSecs && f.sec == allSecs // any time matches
		for _, t := range f.times {
			if int(t) >= sod && (free || f.timeOK(int(t))) {
				return int(t)
			}
		}
		return -1
	}
	h, m, s := sod/3600, sod/60%60, sod%60
	for {
		if nh := nextBit(uint64(f.hour), h); nh != h {
			if nh >= 24 {
				return -1
			}
			h, m, s = nh, 0, 0
		}
		if nm := nextBit(f.min, m); nm != m {
			if nm >= 60 {
				h, m, s = h+1, 0, 0
				continue
			}
			m, s = nm, 0
		}
		if s = nextBit(f.sec, s); s < 60 {
			return h*3600 + m*60 + s
		}
		m, s = m+1, 0
	}
}

func (f *matcher) timeOK(t int) bool {
	return f.hour>>uint(t/3600)&1 != 0 && f.min>>uint(t/60%60)&1 != 0 && f.sec>>uint(t%60)&1 != 0
}

// monthDays is the length of a month for years 1901-2099.
func monthDays(y, m int64) int64 {
	if m == 2 && y%4 == 0 {
		return 29
	}
	return int64(daysInMonth[m-1])
}

// dayOK checks the periods of a day that its date and weekday decide: day
// d of a month of n days, weekday wd.
func (f *matcher) dayOK(d, wd, n int64) bool {
	return f.dayMask(n)>>uint(d)&1 != 0 && f.wday>>uint(wd)&1 != 0
}

// isoWeek is later's week of the year of a day (days since the epoch):
// the ISO 8601 week, counted from the week of the year's first Thursday.
func isoWeek(day int64) int64 {
	thu := mondayOf(day) + 3
	y, _, _ := civil(thu)
	return weekOfThursday(thu, y)
}

// weekCache remembers the ISO week of the last week looked up, as the
// matcher's search moves through consecutive days.
type weekCache struct{ monday, week int64 }

func (c *weekCache) of(day int64) int64 {
	switch {
	case day >= c.monday && day < c.monday+7:
	case day >= c.monday+7 && day < c.monday+14 && c.week < 52:
		// Every year has 52 weeks: the next week is the next number.
		c.monday, c.week = c.monday+7, c.week+1
	default:
		c.monday, c.week = mondayOf(day), isoWeek(day)
	}
	return c.week
}

// weekOK checks the week of the year of a day.
func (f *matcher) weekOK(day int64, c *weekCache) bool {
	return f.woy == 0 || f.woy>>uint(c.of(day))&1 != 0
}

// horizon is how many days find may search.
func (f *matcher) horizon() int64 {
	if f.dc != 0 || f.lastDc || f.woy != 0 {
		return weekDays
	}
	return fastYears * 366
}

// firstWeekDay is 1972-01-03, the first Monday from which later's weeks
// of the year never throw: it throws for a week of 1970, and its step to
// a week of 1971 looks up the week of 1971-01-01, which is one of 1970.
const firstWeekDay = 732

// find is the first matching whole second at or after x (seconds since
// the epoch); ok=false when there is none within the horizon.
func (f *matcher) find(x int64) (int64, bool) {
	day := x / 86400
	if f.woy == 0 && f.everyDate() {
		// Only the weekday decides about a day, and every allowed day has
		// a matching second (see newMatcher): one comes within a week.
		sod, wd := int(x%86400), dowOf(day)
		for range 8 {
			if f.wday>>uint(wd)&1 != 0 {
				if s := f.nextSod(sod); s >= 0 {
					return day*86400 + int64(s), true
				}
			}
			day, wd, sod = day+1, wd%7+1, 0
		}
		return 0, false
	}
	if f.woy != 0 && day < firstWeekDay {
		return 0, false
	}
	sod := int(x % 86400)
	y, mo, cur := civil(day) // cur: the day of the month of day
	wd := dowOf(day)
	weeks := weekCache{monday: -1 << 62}
	for end := day + f.horizon(); ; {
		n := monthDays(y, mo)
		if f.month>>uint(mo)&1 != 0 {
			// Jump from one allowed day of the month to the next.
			days := f.dayMask(n)
			for c := int64(nextBit(days, int(cur))); c <= n; {
				if skip := c - cur; skip > 0 {
					day, wd, cur, sod = day+skip, (wd+skip-1)%7+1, c, 0
				}
				if day >= end {
					return 0, false
				}
				next := c + 1
				switch {
				case !f.weekOK(day, &weeks):
					next = c + 7 - (wd+5)%7 // the next Monday
				case f.wday>>uint(wd)&1 != 0:
					if s := f.nextSod(sod); s >= 0 {
						return day*86400 + int64(s), true
					}
				}
				c = int64(nextBit(days, int(min(next, 64))))
			}
		}
		skip := n - cur + 1 // to the first of the next month
		day, wd, cur, sod = day+skip, (wd+skip-1)%7+1, 1, 0
		if day >= end {
			return 0, false
		}
		if mo++; mo > 12 {
			mo, y = 1, y+1
		}
	}
}

// dayMask is the days (bit i = day i) of a month of n days that the day
// of the month and the day instance allow.
func (f *matcher) dayMask(n int64) uint64 {
	m := uint64(f.mday)
	if f.lastDay {
		m |= 1 << uint(n)
	}
	if f.dc != 0 {
		var inst uint64
		for i := uint(1); i <= 5; i++ {
			if f.dc>>i&1 != 0 {
				inst |= 0x7f << (7*(i-1) + 1)
			}
		}
		m &= inst
	}
	if f.lastDc {
		m &= 0x7f << uint(n-6)
	}
	return m
}

// coarseOK reports whether the hour starting at hour*3600 s matches every
// period coarser than a minute.
func (f *matcher) coarseOK(hour int64) bool {
	if f.hour>>uint(hour%24)&1 == 0 {
		return false
	}
	day := hour / 24
	y, mo, d := civil(day)
	return f.month>>uint(mo)&1 != 0 && f.dayOK(d, dowOf(day), monthDays(y, mo)) &&
		(f.woy == 0 || f.woy>>uint(isoWeek(day))&1 != 0)
}

// start is compiled.start for the matcher; ok=false leaves the instant to
// later's step-by-step search.
func (f *matcher) start(from date) (date, bool) {
	if !(from.t >= fastLo && from.t < fastHi) {
		return date{}, false
	}
	ms, ok := f.startMS(int64(from.t))
	if !ok {
		return date{}, false
	}
	return mk(float64(ms)), true
}

// startMS is start on milliseconds since the epoch, within [fastLo, fastHi).
func (f *matcher) startMS(ms int64) (int64, bool) {
	x, frac := ms/1000, ms%1000
	a, ok := f.find(x)
	if !ok || a >= int64(fastHi/1000) {
		return 0, false
	}
	switch f.tick {
	case kSec, kTime:
		// Steps over seconds and minutes keep the milliseconds of from;
		// any coarser step lands on a whole second. Where from's second
		// matches, later takes no step at all.
		switch {
		case frac == 0 || a == x:
			return a*1000 + frac, true
		case f.sec == allSecs && f.min == allSecs:
			return a * 1000, true // no second or minute step
		}
		// Otherwise the steps visit every hour between from and the
		// match, so one that fails there makes later take a coarser step.
		if f.hasT || f.winLo > 0 || f.winHi < 86400 || a/3600-x/3600 > 48 {
			return 0, false
		}
		keep := true
		for h := x / 3600; h <= a/3600 && keep; h++ {
			keep = f.coarseOK(h)
		}
		if keep {
			return a*1000 + frac, true
		}
	case kMin:
		a -= a % 60
	case kHour:
		a -= a % 3600
	case kDay, kDow:
		a -= a % 86400
	case kDc:
		y, mo, d := civil(a / 86400)
		a = daysFromCivil(y, mo, (d-1)/7*7+1) * 86400
	case kWoy:
		a = mondayOf(a/86400) * 86400
	case kMonth:
		y, mo, _ := civil(a / 86400)
		a = daysFromCivil(y, mo, 1) * 86400
	default:
		return 0, false
	}
	return a * 1000, true
}

// after is compiled.tickNext for a start the matcher returned: the
// beginning of the following tick period.
func (f *matcher) after(ms int64) int64 {
	switch f.tick {
	case kMin:
		return ms - ms%60000 + 60000
	case kHour:
		return ms - ms%3600000 + 3600000
	case kDay, kDow:
		return ms - ms%86400000 + 86400000
	case kDc:
		// The instance ends after its 7th day or with the month.
		y, mo, d := civil(ms / 86400000)
		return (daysFromCivil(y, mo, 1) + min((d-1)/7*7+7, monthDays(y, mo))) * 86400000
	case kWoy:
		return ms - ms%86400000 + 7*86400000
	case kMonth:
		y, mo, _ := civil(ms / 86400000)
		return daysFromCivil(y, mo+1, 1) * 86400000
	}
	return ms + 1000
}

// run is program.next for a single schedule with a matcher and no
// exceptions, as far as the matcher can go: it appends to out and returns
// the instant later's search would continue from.
func (f *matcher) run(count int, from int64, out []float64) ([]float64, int64) {
	cur := from
	for len(out) < count && cur >= int64(fastLo) && cur < int64(fastHi) {
		a, ok := f.startMS(cur)
		if !ok {
			break
		}
		out = append(out, float64(max(from, a)))
		cur = f.after(a)
		out, cur = f.sameDay(count, a, cur, out)
	}
	return out, cur
}

// sameDay continues run within the day of the start a while the next
// instant cur is a whole second of that day: the day's periods matched
// at a, so startMS there is the next matching second of the day.
func (f *matcher) sameDay(count int, a, cur int64, out []float64) ([]float64, int64) {
	if f.tick > kTime {
		return out, cur
	}
	day := a / 86400000 * 86400000
	walk := f.tick == kSec && !f.hasT
	if walk && a%1000 == 0 {
		out, cur = f.restOfMinute(count, a, int(a-day)/1000, out, cur)
	}
	for len(out) < count && cur%1000 == 0 && cur-day < 86400000 {
		s := f.nextSod(int(cur-day) / 1000)
		if s < 0 {
			break
		}
		a = day + int64(s)*1000
		switch f.tick {
		case kMin:
			a -= a % 60000
		case kHour:
			a -= a % 3600000
		}
		out = append(out, float64(a))
		cur = f.after(a)
		if walk {
			out, cur = f.restOfMinute(count, a, s, out, cur)
		}
	}
	return out, cur
}

// restOfMinute continues sameDay after an occurrence a, a whole second s
// of the day, through the rest of its minute, when seconds are the tick
// and there are no times: the hour and minute matched at a, so only the
// second moves on.
func (f *matcher) restOfMinute(count int, a int64, s int, out []float64, cur int64) ([]float64, int64) {
	sec := s % 60
	base, end := a-int64(sec)*1000, min(60, int(f.winHi)-(s-sec))
	for len(out) < count {
		if sec = nextBit(f.sec, sec+1); sec >= end {
			break
		}
		a = base + int64(sec)*1000
		out = append(out, float64(a))
		cur = a + 1000 // after(a)
	}
	return out, cur
}

// weekly reports that, from any instant, f's next two occurrences come
// within three weeks, well within a timer period: it allows some day of
// every week, or every day of at least every other week of the year, and
// its tick is at most a day or a week of the year. Any allowed day has a
// matching second (see newMatcher).
func (f *matcher) weekly() bool {
	if !f.everyDate() {
		return false
	}
	if f.woy == 0 {
		return f.tick <= kDow
	}
	return f.wday == 0xfe && (f.tick <= kDow || f.tick == kWoy) && everyOtherWeek(f.woy, 52) && everyOtherWeek(f.woy, 53)
}

// everyDate reports that f allows every month, day of the month and day
// instance.
func (f *matcher) everyDate() bool {
	return f.month == 1<<13-2 && f.mday == 0xfffffffe && !f.lastDay && f.dc == 0 && !f.lastDc
}

// everyOtherWeek reports that mask never leaves out two weeks in a row,
// in a year of n weeks and across its end into the next year.
func everyOtherWeek(mask uint64, n uint) bool {
	missing := ^mask & (1<<(n+1) - 2) // weeks 1 to n
	return missing&(missing>>1) == 0 && (missing>>n&1 == 0 || missing>>1&1 == 0)
}

// firesSoon reports, for a single schedule the matcher handles (and at
// most an exception of whole weekdays), that the timer started at now
// fires: NextFire's first step, which fires at the first occurrence when
// it is at least a second away and at the second one otherwise, within a
// timer period and before 2100.
func (p *program) firesSoon(now int64) bool {
	if len(p.scheds) != 1 || p.scheds[0].fast == nil || now < int64(fastLo) || now >= int64(fastHi) {
		return false
	}
	f := p.scheds[0].fast
	if len(p.excs) != 0 {
		// An exception of whole weekdays leaves the occurrences on the
		// other days (see nextExceptDays): a schedule that fires on some
		// day of every week still does when one of its weekdays is left.
		mask, ok := p.exceptDays()
		return ok && f.woy == 0 && f.wday&^mask != 0 && f.weekly() && now < int64(fastHi-30*msDay)
	}
	if f.weekly() && now < int64(fastHi-30*msDay) && (f.woy == 0 || now >= firstWeekDay*msDay) {
		return true
	}
	a, ok := f.startMS(now)
	if ok && a-now < msSec {
		a, ok = f.startMS(f.after(a))
	}
	return ok && a-now < maxTimeout
}

// exceptDays is the set of weekdays (bit i = value i, 1 = Sunday) that the
// only exception of p excludes, when it is a plain, proper subset of the
// weekdays and p's single schedule has a matcher and a tick of a day or
// less; ok=false otherwise.
func (p *program) exceptDays() (uint8, bool) {
	if len(p.scheds) != 1 || len(p.excs) != 1 || p.scheds[0].fast == nil || p.scheds[0].tick > kDow {
		return 0, false
	}
	e := &p.excs[0]
	if len(e.cons) != 1 || e.cons[0].k != kDow || e.cons[0].mod != 0 || len(e.cons[0].vals) >= 7 {
		return 0, false
	}
	var mask uint8
	prev := 0.0
	for _, v := range e.cons[0].vals {
		if !(v > prev && v <= 7) || v != float64(int64(v)) {
			return 0, false
		}
		mask |= 1 << uint(v)
		prev = v
	}
	return mask, mask != 0
}

// nextExceptDays is program.next for a schedule with a matcher and an
// exception of whole weekdays (see exceptDays). later's search there
// drops an occurrence on an excluded day and, as the exception's range
// ends at the next midnight of a day it does not exclude, resumes the
// schedule from that midnight, one attempt per step; ok=false leaves it
// all to slowNext.
func (p *program) nextExceptDays(count int, from int64, out []float64) ([]float64, bool) {
	mask, ok := p.exceptDays()
	if !ok {
		return nil, false
	}
	f := p.scheds[0].fast
	cur := from
	for attempts := 0; attempts < maxAttempts && len(out) < count; attempts++ {
		if cur < int64(fastLo) || cur >= int64(fastHi) {
			return nil, false
		}
		a, ok := f.startMS(cur)
		if !ok {
			return nil, false
		}
		day := a / 86400000
		if mask>>uint(dowOf(day))&1 != 0 {
			for day++; mask>>uint(dowOf(day))&1 != 0; day++ {
			}
			cur = day * 86400000
			continue
		}
		out = append(out, float64(max(from, a)))
		cur = f.after(a)
	}
	return out, true
}

// dayRules are the day-level periods (D, d, M, Y) of a schedule.
type dayRules struct {
	mday    uint32 // bit i = day i of the month
	lastDay bool
	wday    uint8
	month   uint16
	years   [3]uint64 // bit i = year 1970+i
}

// neverFires reports, without searching, that p cannot fire from now
// until 2100. It holds when p has no exceptions and, in each schedule,
// the day-level periods come first in later's order and no day left
// before 2100 satisfies them: then every step of later's search is a
// step of one day or more, its 1000 steps never end within 2^31-1 ms,
// and the timer keeps sleeping until 2100.
func (p *program) neverFires(now int64) bool {
	if len(p.excs) > 0 || len(p.scheds) == 0 || now < int64(fastLo) || now >= int64(fastHi) {
		return false
	}
	for i := range p.scheds {
		r, ok := dayRulesOf(p.scheds[i].cons)
		if !ok || r.anyDay(now/86400000) {
			return false
		}
	}
	return true
}

func dayRulesOf(cons []constraint) (dayRules, bool) {
	r := dayRules{mday: 0xfffffffe, wday: 0xfe, month: 1<<13 - 2, years: [3]uint64{^uint64(0), ^uint64(0), ^uint64(0)}}
	timeSeen := false
	for i := range cons {
		c := &cons[i]
		var lo, hi float64
		switch c.k {
		case kSec, kMin, kHour, kTime:
			timeSeen = true
			continue
		// Values past the end of the period never match, and later's step
		// for them still moves on to a later day.
		case kDay:
			lo, hi = 1, 1e9
			if len(c.vals) == 1 && c.vals[0] == 0 {
				lo = 0
			}
		case kDow, kMonth:
			lo, hi = 1, 1e9
		case kYear:
			lo, hi = 1, 9999
		default:
			return r, false
		}
		if timeSeen || c.mod != 0 || len(c.vals) == 0 {
			return r, false
		}
		var mask uint64
		var years [3]uint64
		prev := -1.0
		for _, v := range c.vals {
			if !(v >= lo && v <= hi && v > prev) || v != float64(int64(v)) {
				return r, false
			}
			prev = v
			switch {
			case c.k == kYear:
				if y := int(v) - 1970; y >= 0 && y < 130 {
					years[y/64] |= 1 << uint(y%64)
				}
			case v == 0:
				r.lastDay = true
			case v <= 31:
				mask |= 1 << uint(v)
			}
		}
		switch c.k {
		case kDay:
			r.mday = uint32(mask)
		case kDow:
			r.wday = uint8(mask & 0xfe)
		case kMonth:
			r.month = uint16(mask & (1<<13 - 2))
		case kYear:
			r.years = years
		}
	}
	return r, true
}

// anyDay reports whether some day from day (days since the epoch) to the
// end of 2099 satisfies r, using later's month lengths.
func (r *dayRules) anyDay(day int64) bool {
	y, mo, d := civil(day)
	wd := dowOf(day)
	for ; y <= 2099; y, mo, d = y+(mo/12), mo%12+1, 1 {
		n := monthDays(y, mo)
		if r.years[(y-1970)/64]>>uint((y-1970)%64)&1 != 0 && r.month>>uint(mo)&1 != 0 {
			for dd, w := d, wd; dd <= n; dd, w = dd+1, w%7+1 {
				if (r.mday>>uint(dd)&1 != 0 || r.lastDay && dd == n) && r.wday>>uint(w)&1 != 0 {
					return true
				}
			}
		}
		wd = (wd+n-d)%7 + 1
	}
	return false
}
