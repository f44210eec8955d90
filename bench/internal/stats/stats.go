// Package stats holds the arithmetic the bench commands share: nearest-rank
// percentiles, min/median/max over runs, and the matching of beats that
// arrived at a receiver to the whole seconds they were due.
package stats

import (
	"math"
	"slices"
	"time"
)

// Percentile is the nearest-rank percentile p (0..100) of sorted; 0 for an
// empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Spread is the min, median and max of one figure over several runs.
type Spread struct {
	Min, Median, Max float64
}

// SpreadOf summarises xs; NaN values (a figure a run could not give) are
// left out. All fields are NaN when nothing is left.
func SpreadOf(xs []float64) Spread {
	s := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			s = append(s, x)
		}
	}
	if len(s) == 0 {
		return Spread{math.NaN(), math.NaN(), math.NaN()}
	}
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{s[0], med, s[len(s)-1]}
}

// Ratio is a/b, NaN when b is not positive.
func Ratio(a, b float64) float64 {
	if b <= 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}

// Window is the span of due seconds a measurement counts: every whole
// second s with From <= s < To is due once per heartbeat.
type Window struct {
	From, To time.Time
}

// Seconds is the number of due seconds in the window.
func (w Window) Seconds() int {
	from, to := ceilSecond(w.From), ceilSecond(w.To)
	if !to.After(from) {
		return 0
	}
	return int(to.Sub(from) / time.Second)
}

// Match is what the arrivals of all heartbeats say about one window.
type Match struct {
	// Expected is heartbeats x due seconds in the window; Delivered the due
	// seconds that got an arrival.
	Expected, Delivered int
	// Lateness of every delivered beat (arrival - due second), sorted.
	Lateness []time.Duration
	// Late1s counts the delivered beats that arrived a second or more
	// after their due second.
	Late1s int
	// LostAt counts the missing beats of each due second of the window
	// (index 0 is the window's first second); nil when none is missing.
	LostAt []int
}

// Lost is Expected - Delivered.
func (m Match) Lost() int { return m.Expected - m.Delivered }

// MatchArrivals lines up each heartbeat's arrivals (Unix nanoseconds, in
// the order received) with the whole seconds it was due, and counts those
// due in w. Pass every arrival of the run, also those before w: a beat due
// just before w that arrived inside it must not be taken for one due inside.
//
// The receiver sees arrivals, not which tick sent them. A heartbeat's beats
// go out in order and none before it is due, so the matching walks each
// heartbeat's arrivals from the last to the first and gives each the latest
// whole second at or before it that is earlier than the second given to the
// arrival after it (the latest-feasible order-preserving matching). With no
// beat lost this is exact whatever the lateness, even past a second: two
// arrivals in one second belong to that second and the one before. A due
// second no arrival is left for is a lost beat. The one ambiguous case,
// a beat a second or more late whose next tick was skipped, is read as the
// next tick's beat arriving less late; Late1s counts the beats a second or
// more late so that such runs stand out.
func MatchArrivals(arrivals [][]int64, w Window) Match {
	first, last := ceilSecond(w.From).Unix(), ceilSecond(w.To).Unix() // seconds first..last-1
	m := Match{}
	if last <= first {
		return m
	}
	span := int(last - first)
	m.Expected = span * len(arrivals)
	lost := make([]int, span)
	for i := range lost {
		lost[i] = len(arrivals)
	}
	for _, hs := range arrivals {
		next := int64(math.MaxInt64) // the second given to the following arrival
		for j := len(hs) - 1; j >= 0; j-- {
			sec := floorDiv(hs[j], int64(time.Second))
			if sec >= next {
				sec = next - 1
			}
			next = sec
			if sec >= last {
				continue // due after the window
			}
			if sec < first {
				// Due before the window, and so is every earlier arrival,
				// except duplicates this walk cannot tell apart.
				break
			}
			late := time.Duration(hs[j] - sec*int64(time.Second))
			m.Lateness = append(m.Lateness, late)
			if late >= time.Second {
				m.Late1s++
			}
			m.Delivered++
			lost[sec-first]--
		}
	}
	for _, n := range lost {
		if n != 0 {
			m.LostAt = lost
			break
		}
	}
	slices.Sort(m.Lateness)
	return m
}

func ceilSecond(t time.Time) time.Time {
	s := t.Truncate(time.Second)
	if s.Before(t) {
		s = s.Add(time.Second)
	}
	return s
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) != (b < 0) {
		q--
	}
	return q
}
