package schedule

import (
	"slices"
	"sort"
	"strconv"
)

var periodNames = [...]string{kSec: "second", kMin: "minute", kHour: "hour", kTime: "time of day", kDay: "day of the month",
	kDow: "day of the week", kDc: "day instance", kDoy: "day of the year", kWom: "week of the month",
	kWoy: "week of the year", kMonth: "month", kYear: "year"}

// textWarnings lists what later will do with a frequency, parsed by b
// with warn set, that its author most likely did not intend.
func textWarnings(b *builder) []string {
	var w warnList
	for _, e := range b.everys {
		w.add(everyWarning(e))
	}
	for i, end := 0, 0; i < b.nLists; i = end {
		end = b.defEnd(i)
		w.defWarnings(b, i, end)
	}
	if b.nDefs > b.nScheds {
		w.add("'except' can stall later's search when it removes an occurrence: e.g. 'every 1 hour except at 12:00' fires every second from 11:00 to 12:00 and then never again; check the listed fire times")
	}
	return w
}

// warnList holds warnings, each once, in the order they first come.
type warnList []string

func (w *warnList) add(m string) {
	if m != "" && !slices.Contains(*w, m) {
		*w = append(*w, m)
	}
}

// everyWarning words what `every N <period>` does that few mean, if
// anything. Messages are built by concatenation: fmt would box every
// argument.
func everyWarning(e everyUse) string {
	n := e.n
	if n == 0 {
		one := periodNames[e.k]
		return "'every 0' is read as 'every 1': this fires every " + one + ", as 'every 1 " + one + "' does; write that instead"
	}
	if n <= 1 || isNaN(n) || e.k == kYear || e.k == kDow {
		return ""
	}
	var cycle float64
	var unit, within string
	switch e.k {
	case kSec:
		cycle, unit, within = 60, "seconds", "minute"
	case kMin:
		cycle, unit, within = 60, "minutes", "hour"
	case kHour:
		cycle, unit, within = 24, "hours", "day"
	case kMonth:
		cycle, unit, within = 12, "months", "year"
	case kDay:
		return "'every " + g(n) + " days' counts days of the month (1, " + g(1+n) + ", " + g(1+2*n) + ", ...) and starts again on the 1st of each month, so gaps at month ends are shorter"
	case kWoy, kWom, kDoy, kDc:
		plural, within := "weeks", "year"
		switch e.k {
		case kWom:
			plural, within = "weeks of the month", "month"
		case kDoy:
			plural = "days of the year"
		case kDc:
			plural, within = "day instances", "month"
		}
		return "'every " + g(n) + " " + plural + "' counts from the start of each " + within + " and starts again there, so the gap at the turn of the " + within + " is shorter"
	default:
		return ""
	}
	base := 0.0
	if e.k == kMonth {
		base = 1
	}
	one := unit[:len(unit)-1]
	switch {
	case n >= cycle:
		return "'every " + g(n) + " " + unit + "' fires only once per " + within + " (" + one + " " + g(base) + "): steps are counted within each " + within + ", not from the last fire"
	case int(cycle)%int(n) != 0:
		last := base + float64(int(cycle-1)/int(n))*n
		return "'every " + g(n) + " " + unit + "' starts again at the start of each " + within + ": it fires in " + one + " " + g(base) + ", " + g(base+n) + ", ..., " + g(last) + ", then " + g(base) + " again (a gap of " + g(cycle+base-last) + " " + unit + ")"
	}
	return ""
}

// defWarnings adds the warnings for the definition made of lists i to end.
func (w *warnList) defWarnings(b *builder, i, end int) {
	finest := -1
	for j := i; j < end; j++ {
		if finest < 0 || b.listAt(j).k.k.rangeSecs() <= b.listAt(finest).k.k.rangeSecs() {
			finest = j
		}
	}
	for j := i; j < end; j++ {
		k, vals := b.listAt(j).k, b.pool.vals(b.listAt(j).vals)
		if k.mod != 0 {
			continue
		}
		if len(vals) == 0 {
			w.add(aPeriod(k.k) + " range in this frequency ends before it starts, so it matches nothing and later then behaves erratically; write ranges from low to high")
		}
		if !sortedVals(vals) {
			w.add(periodNames[k.k] + " values are not in increasing order; later then only finds the first one, so list them from low to high (e.g. 'at 9:00 and 17:00', 'on mon and fri')")
		}
		if outOfRange(k.k, vals) {
			w.add(aPeriod(k.k) + " value is out of range; later then fires at odd times")
		}
	}
	if b.listAt(i).def < b.nScheds { // a schedule, not an exception
		if b.listAt(finest).k.mod != 0 {
			w.add("'after'/'before' on its own matches every second of the period it allows, so this fires every second; combine it with a frequency, e.g. 'every 1 hour after 9:00'")
		}
		if end-i == 1 && b.listAt(i).k.k == kYear && b.listAt(i).vals.n == 1 {
			w.add("a single year on its own fires at the start of that year and then every second until it ends; add a time, e.g. 'at 9:00 in 2027'")
		}
	}
}

func sortedVals(vals []float64) bool {
	// A trailing 0 stands for "last" in 1-based periods and is meant to sort last.
	v := vals
	if n := len(v); n > 1 && v[n-1] == 0 {
		v = v[:n-1]
	}
	return sort.Float64sAreSorted(v)
}

func outOfRange(k kind, vals []float64) bool {
	var hi float64
	switch k {
	case kSec, kMin:
		hi = 59
	case kHour:
		hi = 23
	case kDay:
		hi = 31
	case kDow:
		hi = 7
	case kDc, kWom:
		hi = 5
	case kDoy:
		hi = 366
	case kWoy:
		hi = 53
	case kMonth:
		hi = 12
	default:
		return false
	}
	for _, v := range vals {
		if v > hi {
			return true
		}
	}
	return false
}

// aPeriod is the period's name after "a" or "an".
func aPeriod(k kind) string {
	if k == kHour {
		return "an " + periodNames[k]
	}
	return "a " + periodNames[k]
}

// g formats v as fmt's %g does.
func g(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
