package schedule

import "math"

// kind is one of later's time periods.
type kind uint8

const (
	kSec   kind = iota // s: second of the minute
	kMin               // m: minute of the hour
	kHour              // h: hour of the day
	kTime              // t: second of the day
	kDay               // D: day of the month
	kDow               // d: day of the week, 1 = Sunday
	kDc                // dc: day instance (nth weekday of the month)
	kDoy               // dy: day of the year
	kWom               // wm: week of the month
	kWoy               // wy: ISO week of the year
	kMonth             // M: month, 1-12
	kYear              // Y: year
)

// jsThrow is raised (and recovered at the API boundary) where later.js
// itself would throw a TypeError, so that no occurrence is produced.
type jsThrow struct{}

// rangeSecs is later's `range`: how long one unit lasts, used to order
// the constraints from coarse to fine.
func (k kind) rangeSecs() float64 {
	switch k {
	case kSec, kTime:
		return 1
	case kMin:
		return 60
	case kHour:
		return 3600
	case kDay, kDow, kDoy:
		return 86400
	case kDc, kWom, kWoy:
		return 604800
	case kMonth:
		return 2629740
	default:
		return 31556900
	}
}

func (k kind) extMin() float64 {
	switch k {
	case kSec, kMin, kHour, kTime:
		return 0
	case kYear:
		return 1970
	}
	return 1
}

func (k kind) extMax(d date) float64 {
	switch k {
	case kSec, kMin:
		return 59
	case kHour:
		return 23
	case kTime:
		return 86399
	case kDay:
		return monthLen(d)
	case kDow:
		return 7
	case kDc:
		return math.Ceil(monthLen(d) / 7)
	case kDoy:
		return yearLen(d)
	case kWom:
		return womMax(d)
	case kWoy:
		return woyMax(d)
	case kMonth:
		return 12
	}
	return 2099
}

func (k kind) val(d date) float64 {
	switch k {
	case kSec:
		return d.s
	case kMin:
		return d.m
	case kHour:
		return d.h
	case kTime:
		return d.h*3600 + d.m*60 + d.s
	case kDay:
		return d.D
	case kDow:
		return d.dw
	case kDc:
		return math.Floor((d.D-1)/7) + 1
	case kDoy:
		return math.Ceil(1 + (jsUTC(d.Y, d.M-1, d.D, 0, 0, 0)-jsUTC(d.Y, 0, 1, 0, 0, 0))/msDay)
	case kWom:
		return (d.D + (ymd(d.Y, d.M, 1).dw - 1) + (7 - d.dw)) / 7
	case kWoy:
		return woyVal(d)
	case kMonth:
		return d.M
	}
	return d.Y
}

func (k kind) isValid(d date, v float64) bool {
	switch k {
	case kDay:
		return d.D == or(v, monthLen(d))
	case kDow:
		return d.dw == or(v, 7)
	case kDc:
		return k.val(d) == v || (v == 0 && d.D > monthLen(d)-7)
	case kDoy:
		return k.val(d) == or(v, yearLen(d))
	case kWom:
		return k.val(d) == or(v, womMax(d))
	case kWoy:
		return k.val(d) == or(v, woyMax(d))
	case kMonth:
		return d.M == or(v, 12)
	}
	return k.val(d) == v
}

func or0(v float64) float64 { return or(v, 0) }

// start is the first instant of the period containing d.
func (k kind) start(d date) date {
	switch k {
	case kSec, kTime:
		return d
	case kMin:
		return atTime(d, or0(d.h), or0(d.m), 0)
	case kHour:
		return atTime(d, or0(d.h), 0, 0)
	case kDay, kDow, kDoy:
		return atTime(d, 0, 0, 0)
	case kDc:
		return ymd(d.Y, d.M, math.Max(1, or((kDc.val(d)-1)*7+1, 1)))
	case kWom:
		return ymd(d.Y, d.M, math.Max(d.D-d.dw+1, 1))
	case kWoy:
		return woyStart(d)
	case kMonth:
		return ymd(d.Y, d.M, 1)
	}
	return ymd(d.Y, 1, 1)
}

// end is the last second of the period containing d.
func (k kind) end(d date) date {
	switch k {
	case kSec, kTime:
		return d
	case kMin:
		return atTime(d, d.h, d.m, 59)
	case kHour:
		return atTime(d, d.h, 59, 59)
	case kDay, kDow, kDoy:
		return atTime(d, 23, 59, 59)
	case kDc:
		return ymdEnd(d.Y, d.M, math.Min(kDc.val(d)*7, monthLen(d)))
	case kWom:
		return ymdEnd(d.Y, d.M, math.Min(d.D+(7-d.dw), monthLen(d)))
	case kWoy:
		x := 0.0
		if d.dw > 1 {
			x = 8 - d.dw
		}
		return ymdEnd(d.Y, d.M, d.D+x)
	case kMonth:
		return ymdEnd(d.Y, d.M, monthLen(ymd(d.Y, d.M, 1)))
	}
	return ymdEnd(d.Y, 12, 31)
}

// next is the start of the next period where k has value v, as later
// computes it (including its treatment of out-of-range values).
func (k kind) next(d date, v float64) date {
	switch k {
	case kSec:
		inc := v - d.s
		if v > 59 {
			inc = 60 - d.s
		} else if v <= d.s {
			inc = 60 - d.s + v
		}
		return mkNear(d.t+inc*msSec, d)
	case kMin:
		inc := v - d.m
		if v > 59 {
			inc = 60 - d.m
		} else if v <= d.m {
			inc = 60 - d.m + v
		}
		return mkNear(d.t+inc*msMin-d.s*msSec, d)
	case kHour:
		if v > 23 {
			v = 0
		}
		if !(v <= d.h) { // NaN (an empty list) also stays on this day
			return atTime(d, or0(v), 0, 0)
		}
		return mk(jsUTC(d.Y, d.M-1, d.D+1, or0(v), 0, 0))
	case kTime:
		if v > 86399 {
			v = 0
		}
		add := 0.0
		if v <= kTime.val(d) {
			add = 1
		}
		return mk(jsUTC(d.Y, d.M-1, d.D+add, 0, 0, or0(v)))
	case kDay:
		if v > monthLen(d) {
			v = 1
		}
		month := rollover(d, v, kDay, kMonth)
		n := monthLen(month)
		if v > n {
			v = 1
		} else {
			v = or(v, n)
		}
		return ymd(month.Y, month.M, v)
	case kDow:
		return dowNext(d, v)
	case kDc:
		if v > kDc.extMax(d) {
			v = 1
		}
		month := rollover(d, v, kDc, kMonth)
		if v > kDc.extMax(month) {
			v = 1
		}
		day := func(m date) float64 {
			if v == 0 {
				return monthLen(m) - 6
			}
			return 1 + 7*(v-1)
		}
		n := ymd(month.Y, month.M, day(month))
		if n.t <= d.t {
			month = kMonth.next(d, d.M+1)
			return ymd(month.Y, month.M, day(month))
		}
		return n
	case kDoy:
		if v > yearLen(d) {
			v = 1
		}
		year := rollover(d, v, kDoy, kYear)
		n := yearLen(year)
		if v > n {
			v = 1
		} else {
			v = or(v, n)
		}
		return ymd(year.Y, year.M, v)
	case kWom:
		if v > womMax(d) {
			v = 1
		}
		month := rollover(d, v, kWom, kMonth)
		n := womMax(month)
		if v > n {
			v = 1
		} else {
			v = or(v, n)
		}
		return ymd(month.Y, month.M, math.Max(1, (v-1)*7-(month.dw-2)))
	case kWoy:
		if v > woyMax(d) {
			v = 1
		}
		thu := dowNext(woyStart(d), 5)
		year := rollover(thu, v, kWoy, kYear)
		if woyVal(year) != 1 {
			year = dowNext(year, 2)
		}
		n := woyMax(year)
		ws := woyStart(year)
		if v > n {
			v = 1
		} else {
			v = or(v, n)
		}
		return ymd(ws.Y, ws.M, ws.D+7*(v-1))
	case kMonth:
		if v > 12 {
			v = 1
		} else {
			v = or(v, 12)
		}
		add := 1.0
		if v > d.M {
			add = 0
		}
		return mk(jsUTC(d.Y+add, v-1, 1, 0, 0, 0))
	}
	if v > d.Y && v <= 2099 {
		return mk(jsUTC(v, 0, 1, 0, 0, 0))
	}
	return mk(never)
}

// rollover is later.date.nextRollover: the start of the enclosing period,
// or of the following one when value v cannot occur again in this one.
func rollover(d date, v float64, c, period kind) date {
	cur := c.val(d)
	mx := c.extMax(d)
	if or(v, mx) <= cur || v > mx {
		return mk(period.end(d).t + msSec)
	}
	return period.start(d)
}

func dowNext(d date, v float64) date {
	if v > 7 {
		v = 1
	} else {
		v = or(v, 7)
	}
	add := 0.0
	if v <= d.dw {
		add = 7
	}
	return ymd(d.Y, d.M, d.D+(v-d.dw)+add)
}

func womMax(d date) float64 {
	first := ymd(d.Y, d.M, 1)
	last := ymdEnd(d.Y, d.M, monthLen(first))
	return (monthLen(d) + (first.dw - 1) + (7 - last.dw)) / 7
}

func woyStart(d date) date {
	x := 6.0
	if d.dw > 1 {
		x = d.dw - 2
	}
	return ymd(d.Y, d.M, d.D-x)
}

// dayNum is the day number (days since 1970-01-01) of a valid date.
func dayNum(d date) int64 { return int64(math.Floor(d.t / msDay)) }

// fastWoy reports whether the integer shortcuts below agree with later's
// Date arithmetic for d: a valid date well clear of Date.UTC's 0-99 years.
func fastWoy(d date) bool { return d.Y >= 200 && d.Y <= 200000 }

// woyThu is the day number of the Thursday of d's ISO week.
func woyThu(d date) int64 {
	x := int64(6)
	if d.dw > 1 {
		x = int64(d.dw) - 2
	}
	return dayNum(d) - x + 3
}

func dowOf(day int64) int64 {
	w := (day + 4) % 7
	if w < 0 {
		w += 7
	}
	return w + 1
}

// mondayOf is the day number of the Monday of a day's ISO week.
func mondayOf(day int64) int64 { return day - (dowOf(day)+5)%7 }

// weekOfThursday is the ISO week whose Thursday is day thu of year y:
// weeks count from the one holding the year's first Thursday.
func weekOfThursday(thu, y int64) int64 {
	jan1 := daysFromCivil(y, 1, 1)
	return (thu-(jan1+(12-dowOf(jan1))%7))/7 + 1
}

func woyVal(d date) float64 {
	if fastWoy(d) {
		thu := woyThu(d)
		y, _, _ := civil(thu)
		if y-1 < 1970 {
			panic(jsThrow{})
		}
		return float64(weekOfThursday(thu, y))
	}
	thu := dowNext(woyStart(d), 5)
	// later.Y.prev gives NEVER before 1970 and later then throws.
	py := thu.Y - 1
	if !(py < thu.Y && py >= 1970) {
		panic(jsThrow{})
	}
	yThu := dowNext(ymdEnd(py, 12, 31), 5)
	return 1 + math.Ceil((thu.t-yThu.t)/msWeek)
}

func woyMax(d date) float64 {
	if fastWoy(d) {
		y, _, _ := civil(woyThu(d))
		if dowOf(daysFromCivil(y, 1, 1)) == 5 || dowOf(daysFromCivil(y, 12, 31)) == 5 {
			return 53
		}
		return 52
	}
	year := dowNext(woyStart(d), 5)
	first := ymd(year.Y, 1, 1).dw
	last := ymdEnd(year.Y, 12, 31).dw
	if first == 5 || last == 5 {
		return 53
	}
	return 52
}
