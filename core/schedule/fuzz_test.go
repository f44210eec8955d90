package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fuzzBudget is how long one input may take before it counts as a hang.
const fuzzBudget = 10 * time.Second

var fuzzSeeds = []string{
	"every 5 minutes", "every 1 hour except at 12:00", "at 17:00 and 9:00", "on mon through sun",
	"on the 60th second", "after 10:00am", "every 2 hours starting on the 3rd hour",
	"every 1 hour between the 9 and 17 on mon-fri", "on the last day instance on fri at 9:00 pm",
	"every 2 weeks of the month", "in 2027", "of ma", "İn 2027", "every\u00a01 hour", "@9:00",
	"at 9:00 also at 17:00 on sat except of dec", "every 1 year of dec", "on the 9007199254740993rd minute",
	"every 1 minute between the 0 and 99999999", "every 5 minz", "", " ", "also", "except also",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	from := time.Date(2026, 3, 15, 13, 47, 29, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string) {
		start := time.Now()
		s, err := parseText(expr, from)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				if pe.Pos < 0 || pe.Pos > len(expr)*2 || !strings.Contains(pe.Error(), "position") {
					t.Fatalf("bad ParseError %#v", pe)
				}
			}
			return
		}
		_ = s.Warnings()
		_ = s.Next(10, from)
		if fire, ok := s.NextFire(from); ok && (!fire.After(from) || fire.Year() >= 2100) {
			t.Fatalf("NextFire(%v) = %v", from, fire)
		}
		if d := time.Since(start); d > fuzzBudget {
			t.Fatalf("%q took %v", expr, d)
		}
	})
}

func FuzzNext(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, int64(1790000000000+int64(i)*86400007), uint8(i))
	}
	f.Add("every 1 hour", int64(0), uint8(3))
	f.Add("every 2 weeks", int64(-62135596800000), uint8(10))
	f.Add("on the last day of the month", int64(8640000000000000), uint8(10))
	f.Fuzz(func(t *testing.T, expr string, fromMS int64, n uint8) {
		s, err := parseText(expr, time.UnixMilli(1790000000000))
		if err != nil {
			return
		}
		from := time.UnixMilli(fromMS).Add(time.Duration(n) * 123457 * time.Microsecond)
		start := time.Now()
		_ = s.Next(int(n), from)
		now := from
		for range 3 {
			fire, ok := s.NextFire(now)
			if !ok {
				break
			}
			if !fire.After(now) || fire.Year() >= 2100 {
				t.Fatalf("NextFire(%v) = %v", now, fire)
			}
			now = fire
		}
		if d := time.Since(start); d > fuzzBudget {
			t.Fatalf("%q from %v took %v", expr, from, d)
		}
	})
}
