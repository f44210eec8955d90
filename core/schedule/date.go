package schedule

import "math"

// The engine works on instants the way later.js does: milliseconds since
// the Unix epoch held in a float64, NaN for an invalid Date. Reproducing
// JavaScript's Date arithmetic exactly (month overflow, the 0-99 year
// mapping of Date.UTC, the ±8.64e15 ms range) is what keeps odd schedules
// firing at the same instants as later.js.

const (
	msSec  = 1000.0
	msMin  = 60000.0
	msHour = 3600000.0
	msDay  = 86400000.0
	msWeek = 604800000.0

	// maxTime is the largest magnitude a JavaScript Date can hold.
	maxTime = 8.64e15
	// never stands for later.NEVER ("no such date"); it is not a valid time.
	never = -1e300
	// maxTimeout is the longest delay a JavaScript timer accepts (2^31-1 ms).
	maxTimeout = 2147483647.0
	// end2100 is 2100-01-01T00:00:00Z: later's calendar stops at 2099.
	end2100 = 4102444800000.0
)

var daysInMonth = [12]float64{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// date is a JavaScript Date in UTC with its calendar fields precomputed.
type date struct {
	t                    float64
	Y, M, D, dw, h, m, s float64
}

func isNaN(f float64) bool { return f != f }

// or is JavaScript's `a || b` on numbers: 0 and NaN are falsy.
func or(a, b float64) float64 {
	if a == 0 || isNaN(a) {
		return b
	}
	return a
}

// mk is `new Date(t)`: values outside the Date range become invalid.
func mk(t float64) date {
	if t == never {
		return date{t: never, Y: math.NaN(), M: math.NaN(), D: math.NaN(), dw: math.NaN(), h: math.NaN(), m: math.NaN(), s: math.NaN()}
	}
	if isNaN(t) || math.Abs(t) > maxTime {
		n := math.NaN()
		return date{t: n, Y: n, M: n, D: n, dw: n, h: n, m: n, s: n}
	}
	ms := int64(t)
	t = float64(ms)
	days := ms / 86400000
	rem := ms % 86400000
	if rem < 0 {
		days--
		rem += 86400000
	}
	y, mo, d := civil(days)
	dw := (days + 4) % 7
	if dw < 0 {
		dw += 7
	}
	rem /= 1000
	return date{t: t, Y: float64(y), M: float64(mo), D: float64(d), dw: float64(dw + 1),
		h: float64(rem / 3600), m: float64(rem / 60 % 60), s: float64(rem % 60)}
}

// plainYear reports whether d is a valid date whose year Date.UTC takes
// as is (it maps years 0-99 to 1900-1999), so that same-day arithmetic may
// skip the calendar conversion.
func plainYear(d date) bool { return (d.Y >= 100 || d.Y < 0) && d.Y <= 275000 && d.Y >= -271000 }

// dayStart is the first millisecond of d's day.
func dayStart(d date) float64 { return math.Floor(d.t/msDay) * msDay }

// atTime is jsUTC(d.Y, d.M-1, d.D, h, m, s) for h, m, s within their
// ranges, computed without a calendar round trip.
func atTime(d date, h, m, s float64) date {
	if !plainYear(d) || !(h >= 0 && h <= 23 && m >= 0 && m <= 59 && s >= 0 && s <= 59) {
		return mk(jsUTC(d.Y, d.M-1, d.D, h, m, s))
	}
	t := dayStart(d) + h*msHour + m*msMin + s*msSec
	return date{t: t, Y: d.Y, M: d.M, D: d.D, dw: d.dw, h: h, m: m, s: s}
}

// mkNear is mk(t) reusing ref's calendar fields when t falls on ref's day.
func mkNear(t float64, ref date) date {
	if isNaN(ref.t) || ref.t == never || isNaN(t) || math.Abs(t) > maxTime {
		return mk(t)
	}
	ds := dayStart(ref)
	if t < ds || t >= ds+msDay {
		return mk(t)
	}
	t = math.Trunc(t)
	rem := int64(t-ds) / 1000
	return date{t: t, Y: ref.Y, M: ref.M, D: ref.D, dw: ref.dw,
		h: float64(rem / 3600), m: float64(rem / 60 % 60), s: float64(rem % 60)}
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date.
func civil(z int64) (y, m, d int64) {
	if z >= -719468 && z < 1<<40 {
		// Unsigned division by a constant is a multiply and a shift;
		// the signed one needs sign fix-ups. Same result for z >= 0.
		u := uint64(z + 719468)
		era := u / 146097
		doe := u - era*146097
		yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
		doy := doe - (365*yoe + yoe/4 - yoe/100)
		mp := (5*doy + 2) / 153
		y, d = int64(yoe+era*400), int64(doy-(153*mp+2)/5+1)
		if mp < 10 {
			m = int64(mp + 3)
		} else {
			m = int64(mp - 9)
		}
		if m <= 2 {
			y++
		}
		return y, m, d
	}
	z += 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return
}

func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// jsUTC is Date.UTC(Y, M, D, h, m, s) with M zero-based.
func jsUTC(Y, M, D, h, m, s float64) float64 {
	// NaN or ±Inf in any argument makes the Date invalid.
	if x := Y + M + D + h + m + s; x-x != 0 {
		return math.NaN()
	}
	if Y >= 0 && Y <= 99 {
		Y += 1900
	}
	fm := math.Floor(M / 12)
	ym := Y + fm
	mn := M - fm*12
	if math.Abs(ym) > 1e6 || math.Abs(D) > 1e9 || math.Abs(h) > 1e12 || math.Abs(m) > 1e12 || math.Abs(s) > 1e13 {
		return math.NaN()
	}
	days := float64(daysFromCivil(int64(ym), int64(mn)+1, 1)) + D - 1
	t := days*msDay + (h*msHour + m*msMin + s*msSec)
	if math.Abs(t) > maxTime {
		return math.NaN()
	}
	return t
}

// ymd is later.date.next(Y, M, D): the start of that day.
func ymd(Y, M, D float64) date { return mk(jsUTC(Y, M-1, D, 0, 0, 0)) }

// ymdEnd is later.date.prev(Y, M, D): the last second of that day.
func ymdEnd(Y, M, D float64) date { return mk(jsUTC(Y, M-1, D, 23, 59, 59)) }

// monthLen is later.D.extent()[1]: the days in d's month, leap years by year%4.
func monthLen(d date) float64 {
	if isNaN(d.M) || d.M < 1 || d.M > 12 {
		return math.NaN()
	}
	n := daysInMonth[int(d.M)-1]
	if d.M == 2 && yearLen(d) == 366 {
		n++
	}
	return n
}

// yearLen is later.dy.extent()[1]; a JavaScript `year % 4 ? 365 : 366`.
func yearLen(d date) float64 {
	if isNaN(d.Y) || int64(d.Y)%4 == 0 {
		return 366
	}
	return 365
}
