package schedule

import (
	"testing"
	"time"
)

var benchExprs = []string{
	"every 5 minutes",
	"at 9:00 am on mon through fri",
	"every 30 minutes except on sun",
	"every 2 weeks",
}

// BenchmarkParseSteps times the steps of Parse separately.
func BenchmarkParseSteps(b *testing.B) {
	now := time.Date(2026, 3, 15, 13, 47, 29, 0, time.UTC)
	for _, e := range benchExprs {
		b.Run("lex/"+e, func(b *testing.B) {
			for b.Loop() {
				lowerASCII(e, make([]uint16, 0, 48))
			}
		})
		b.Run("parseText/"+e, func(b *testing.B) {
			for b.Loop() {
				parseText(e, now)
			}
		})
		s, _ := parseText(e, now)
		b.Run("neverFires/"+e, func(b *testing.B) {
			for b.Loop() {
				s.prog.neverFires(toMS(now))
			}
		})
		b.Run("NextFire/"+e, func(b *testing.B) {
			for b.Loop() {
				s.NextFire(now)
			}
		})
	}
}

// parseExprs are typical frequencies.
var parseExprs = []string{
	"every 5 minutes", "every 1 hour", "every 15 sec", "at 9:00 am on mon through fri",
	"every 1 hour between the 9 and 17", "on the last day of the month at 23:59",
	"every 30 minutes except on sun", "every 2 weeks", "on the 1st day instance on mon at 10:00",
	"every 5 minutes after 9:00 and before 17:00",
}

// BenchmarkParseText times parseText on all of parseExprs per op.
func BenchmarkParseText(b *testing.B) {
	now := time.Date(2026, 3, 15, 13, 47, 29, 0, time.UTC)
	for b.Loop() {
		for _, e := range parseExprs {
			parseText(e, now)
		}
	}
}

// TestParseTextAllocs checks that parsing a frequency of one definition
// allocates the schedule only: the parser stays on the stack.
func TestParseTextAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	now := time.Date(2026, 3, 15, 13, 47, 29, 0, time.UTC)
	for _, e := range parseExprs {
		if e == "every 30 minutes except on sun" {
			continue // two definitions
		}
		if n := testing.AllocsPerRun(10, func() { parseText(e, now) }); n != 1 {
			t.Errorf("parseText(%q) allocates %v times, want 1", e, n)
		}
	}
}
