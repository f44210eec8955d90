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
