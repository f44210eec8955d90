package schedule

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// slowProgram is p with every schedule stepped through later's search.
func slowProgram(p *program) *program {
	q := &program{}
	for _, c := range p.scheds {
		c.fast = nil
		q.scheds = append(q.scheds, c)
	}
	for _, c := range p.excs {
		c.fast = nil
		q.excs = append(q.excs, c)
	}
	return q
}

// randomExpr builds a frequency from parts the matcher handles (and a
// few it does not, so that mixed programs are covered too).
func randomExpr(r *rand.Rand) string {
	parts := []func() string{
		func() string {
			return fmt.Sprintf("every %d %s", r.IntN(70), []string{"sec", "min", "hour", "month"}[r.IntN(4)])
		},
		func() string {
			return fmt.Sprintf("every %d hours starting on the %d hour", 1+r.IntN(5), r.IntN(24))
		},
		func() string {
			return fmt.Sprintf("every %d minutes between the %d and %d", 1+r.IntN(20), r.IntN(30), 30+r.IntN(30))
		},
		func() string { return fmt.Sprintf("at %d:%02d", r.IntN(24), r.IntN(60)) },
		func() string {
			return fmt.Sprintf("at %d:%02d and %d:%02d", r.IntN(12), r.IntN(60), 12+r.IntN(12), r.IntN(60))
		},
		func() string {
			d := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
			a := r.IntN(7)
			return fmt.Sprintf("on %s through %s", d[a], d[a+r.IntN(7-a)])
		},
		func() string { return []string{"every weekday", "every weekend"}[r.IntN(2)] },
		func() string { return fmt.Sprintf("on the %d day of the month", 1+r.IntN(31)) },
		func() string { return "on the last day of the month" },
		func() string { return fmt.Sprintf("on the %d and %d day", 1+r.IntN(14), 15+r.IntN(14)) },
		func() string {
			m := []string{"jan", "feb", "mar", "apr", "may", "june", "july", "aug", "sept", "oct", "nov", "dec"}
			a := r.IntN(12)
			return fmt.Sprintf("of %s through %s", m[a], m[a+r.IntN(12-a)])
		},
		func() string { return fmt.Sprintf("on the %d second", r.IntN(62)) },
		func() string { return fmt.Sprintf("on the %d minute", r.IntN(60)) },
		func() string { return fmt.Sprintf("on the %d hour", r.IntN(25)) },
		func() string { return fmt.Sprintf("on the %d day of the week", 1+r.IntN(7)) },
		func() string { return "on the 1st day instance" },
		func() string { return fmt.Sprintf("on the %d day instance", r.IntN(7)) },
		func() string { return "on the last day instance" },
		func() string { return fmt.Sprintf("on the %d and %d day instance", 1+r.IntN(2), 3+r.IntN(3)) },
		func() string { return fmt.Sprintf("every %d weeks", 1+r.IntN(8)) },
		func() string { return fmt.Sprintf("on the %d week of the year", r.IntN(55)) },
		func() string { return fmt.Sprintf("every %d weeks starting on the %d week", 2+r.IntN(5), r.IntN(10)) },
		func() string { return "on the last week of the year" },
		func() string { return fmt.Sprintf("after %d:00", r.IntN(24)) },
		func() string { return fmt.Sprintf("before %d:%02d", r.IntN(24), r.IntN(60)) },
		func() string {
			return fmt.Sprintf("every %d minutes after %d:%02d and before %d:%02d", 1+r.IntN(30), r.IntN(24), r.IntN(60), r.IntN(24), r.IntN(60))
		},
		func() string { return "except on sun" },
		func() string {
			d := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
			a := r.IntN(7)
			return fmt.Sprintf("except on %s through %s", d[a], d[a+r.IntN(7-a)])
		},
		func() string {
			d := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
			return fmt.Sprintf("except on %s and %s", d[r.IntN(7)], d[r.IntN(7)])
		},
		func() string { return "also at 12:00" },
	}
	n := 1 + r.IntN(4)
	s := ""
	for i := 0; i < n; i++ {
		if i > 0 {
			s += " "
		}
		s += parts[r.IntN(len(parts))]()
	}
	return s
}

func TestMatcherAgreesWithSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 1500
	if testing.Short() || raceEnabled {
		n = 300
	}
	lo, hi := time.Date(1970, 1, 3, 0, 0, 0, 0, time.UTC).UnixMilli(), time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC).UnixMilli()
	covered := 0
	for i := 0; i < n; i++ {
		expr := randomExpr(r)
		s, err := parseText(expr, time.UnixMilli(1790000000000))
		if err != nil {
			continue
		}
		fast := false
		for _, c := range s.prog.scheds {
			fast = fast || c.fast != nil
		}
		if fast {
			covered++
		}
		slow := slowProgram(s.prog)
		for j := 0; j < 8; j++ {
			var from int64
			switch j % 4 {
			case 0:
				from = lo + r.Int64N(hi-lo)
			case 1:
				from = (lo + r.Int64N(hi-lo)) / 1000 * 1000
			case 2:
				from = (lo + r.Int64N(hi-lo)) / 3600000 * 3600000
			default:
				from = 1790000000000 + r.Int64N(400*86400000)
			}
			got, _ := s.prog.next(12, float64(from), nil)
			want, _ := slow.next(12, float64(from), nil)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%q from %s:\n got  %v\n want %v", expr, time.UnixMilli(from).UTC(), got, want)
			}
		}
	}
	t.Logf("%d of %d frequencies use the matcher", covered, n)
}

func TestNeverFiresAgreesWithTimer(t *testing.T) {
	tests := []struct {
		expr  string
		never bool
	}{
		{"on the 30th day of feb", true},
		{"on the 31st day of apr at 9:00", true},
		{"on the 30th day of feb also on the 31st day of june", true},
		{"in 2025 on mon", true},
		{"on the 29th day of feb on sun", false},
		{"on the 32nd day of the month", true},
		{"on the 8th day of the week on the 13th month", true},
		{"on the 30th day of feb also at 9:00", false},
		{"on the 30th day of feb except at 9:00", false}, // exceptions: left to the search
		{"at 9:00 on the 10th hour", false},              // time of day: left to the search
		{"on the last day of feb on the 29th day", false},
	}
	nows := []time.Time{time.Date(2026, 3, 15, 13, 47, 29, 0, time.UTC), time.Date(2099, 2, 1, 0, 0, 0, 0, time.UTC)}
	for _, tt := range tests {
		for _, now := range nows {
			t.Run(tt.expr+"@"+now.Format(time.DateOnly), func(t *testing.T) {
				s, err := parseText(tt.expr, now)
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				got := s.prog.neverFires(toMS(now))
				// A proof, not a search: bounded by far less than a search
				// to 2100 would take, even on a loaded machine.
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("took %v", d)
				}
				if got && tt.never != got && now.Year() < 2099 {
					t.Errorf("neverFires = %v, want %v", got, tt.never)
				}
				if got && !testing.Short() {
					if f, ok := s.NextFire(now); ok {
						t.Errorf("neverFires, but the timer fires at %v", f)
					}
				}
			})
		}
	}
}

func TestFiresSoonAgreesWithTimer(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	lo, hi := time.Date(1970, 1, 3, 0, 0, 0, 0, time.UTC).UnixMilli(), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	soon := 0
	for i := 0; i < 4000; i++ {
		expr := randomExpr(r)
		s, err := parseText(expr, time.UnixMilli(1790000000000))
		if err != nil {
			continue
		}
		now := lo + r.Int64N(hi-lo)
		if i%3 == 0 {
			now = hi - r.Int64N(3*86400000)
		}
		if !s.prog.firesSoon(now) {
			continue
		}
		soon++
		fire, ok := s.NextFire(time.UnixMilli(now))
		if !ok {
			t.Fatalf("%q at %d: firesSoon, but the timer never fires", expr, now)
		}
		if d := fire.UnixMilli() - now; d > maxTimeout {
			t.Fatalf("%q at %d: firesSoon, but the timer fires %d ms later, past its first period", expr, now, d)
		}
	}
	t.Logf("%d frequencies fire soon", soon)
}

// TestFiresSoonWithExceptDays checks firesSoon's shortcut for an
// exception of whole weekdays against the timer, near the end of the
// range too.
func TestFiresSoonWithExceptDays(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	days := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	lo, hi := time.Date(1970, 1, 3, 0, 0, 0, 0, time.UTC).UnixMilli(), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	soon, not := 0, 0
	for i := 0; i < 3000; i++ {
		a := r.IntN(7)
		expr := fmt.Sprintf("%s except on %s through %s", []string{
			fmt.Sprintf("every %d minutes", 1+r.IntN(60)),
			fmt.Sprintf("at %d:%02d", r.IntN(24), r.IntN(60)),
			fmt.Sprintf("on %s", days[r.IntN(7)]),
			fmt.Sprintf("on %s and %s at 10:00", days[r.IntN(7)], days[r.IntN(7)]),
			"every weekday", "every weekend",
			fmt.Sprintf("every %d hours", 1+r.IntN(30)),
		}[r.IntN(7)], days[a], days[a+r.IntN(7-a)])
		s, err := parseText(expr, time.UnixMilli(1790000000000))
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		now := lo + r.Int64N(hi-lo)
		if i%3 == 0 {
			now = hi - r.Int64N(40*86400000)
		}
		fire, ok := s.NextFire(time.UnixMilli(now))
		if !s.prog.firesSoon(now) {
			not++
			continue
		}
		soon++
		if !ok {
			t.Fatalf("%q at %d: firesSoon, but the timer never fires", expr, now)
		}
		if d := fire.UnixMilli() - now; d > maxTimeout {
			t.Fatalf("%q at %d: firesSoon, but the timer fires %d ms later, past its first period", expr, now, d)
		}
	}
	if soon == 0 || not == 0 {
		t.Fatalf("firesSoon held for %d and not for %d frequencies: the test misses a side", soon, not)
	}
}

// FuzzMatcher checks the matcher against later's step-by-step search.
func FuzzMatcher(f *testing.F) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 40; i++ {
		f.Add(randomExpr(r), int64(63072000000+r.Int64N(4000000000000)))
	}
	f.Fuzz(func(t *testing.T, expr string, from int64) {
		s, err := parseText(expr, time.UnixMilli(1790000000000))
		if err != nil {
			return
		}
		got, gotOK := s.prog.next(12, float64(from), nil)
		want, wantOK := slowProgram(s.prog).next(12, float64(from), nil)
		if gotOK != wantOK || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q from %d:\n got  %v %v\n want %v %v", expr, from, got, gotOK, want, wantOK)
		}
	})
}

func TestSharedMaskAgreesWithValues(t *testing.T) {
	for off := 0; off < len(shared); off++ {
		for n := 0; off+n <= len(shared); n++ {
			s := span{off: off, n: n, shared: true}
			vals := s.sharedVals()
			var want uint64
			for _, v := range vals {
				if v < 64 {
					want |= 1 << uint(v)
				}
			}
			one := n <= 1 || vals[n-1] > vals[n-2] && sharedStart[off+n-1] == sharedStart[off]
			got, ok := s.sharedMask()
			if ok != one || ok && got != want {
				t.Fatalf("span %d+%d %v: mask %x %v, want %x %v", off, n, vals, got, ok, want, one)
			}
		}
	}
}

func TestWeeklyFiresWithinATimerPeriod(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	lo, hi := time.Date(1972, 1, 3, 0, 0, 0, 0, time.UTC).UnixMilli(), time.Date(2099, 12, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	for _, expr := range []string{"every 2 weeks", "every 1 week", "every 2 weeks at 10:00", "on mon", "at 9:00 am on mon through fri", "every 5 minutes on sat"} {
		t.Run(expr, func(t *testing.T) {
			s, err := parseText(expr, time.UnixMilli(1790000000000))
			if err != nil {
				t.Fatal(err)
			}
			if !s.prog.scheds[0].fast.weekly() {
				t.Fatal("not weekly")
			}
			for range 300 {
				now := lo + r.Int64N(hi-lo)
				if !s.prog.firesSoon(now) {
					t.Fatalf("at %d: firesSoon is false", now)
				}
				fire, ok := s.NextFire(time.UnixMilli(now))
				if d := fire.UnixMilli() - now; !ok || d > maxTimeout {
					t.Fatalf("at %d: the timer fires %v %d ms later", now, ok, d)
				}
			}
		})
	}
	for _, expr := range []string{"every 3 weeks", "on the 1st day instance", "every 1 month", "every 2 weeks on mon"} {
		s, err := parseText(expr, time.UnixMilli(1790000000000))
		if err != nil {
			t.Fatal(err)
		}
		if f := s.prog.scheds[0].fast; f != nil && f.weekly() {
			t.Errorf("%q counts as weekly", expr)
		}
	}
}

func TestEveryOtherWeek(t *testing.T) {
	odd, all := uint64(0), uint64(1<<54-2)
	for w := 1; w <= 53; w += 2 {
		odd |= 1 << w
	}
	even := all &^ odd
	tests := []struct {
		name   string
		mask   uint64
		n      uint
		expect bool
	}{
		{"all", all, 52, true},
		{"odd, 52 weeks", odd, 52, true},    // 51, (52), 1
		{"odd, 53 weeks", odd, 53, true},    // 51, (52), 53, 1
		{"even, 52 weeks", even, 52, true},  // 52, (1), 2
		{"even, 53 weeks", even, 53, false}, // 52, (53), (1), 2
		{"every third", 0x9249249249249248 & all, 52, false},
		{"week 1 only", 1 << 1, 52, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := everyOtherWeek(tt.mask, tt.n); got != tt.expect {
				t.Errorf("everyOtherWeek(%x, %d) = %v, want %v", tt.mask, tt.n, got, tt.expect)
			}
		})
	}
}
