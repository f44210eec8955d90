// Package schedulebench compares the frequency engine with later.js; run
// ./run.sh for the side-by-side numbers.
package schedulebench

import (
	"bufio"
	"os"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
)

func exprs(b *testing.B) []string {
	f, err := os.Open("exprs.txt")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sc.Text() != "" {
			out = append(out, sc.Text())
		}
	}
	return out
}

var from = time.Date(2026, 3, 15, 13, 47, 29, 0, time.UTC)

// BenchmarkParse is Parse, which also checks that the frequency fires.
func BenchmarkParse(b *testing.B) {
	for i, e := range exprs(b) {
		b.Run(name(i), func(b *testing.B) {
			for b.Loop() {
				if _, err := schedule.Parse(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkNext is Next(10, from) on a parsed frequency.
func BenchmarkNext(b *testing.B) {
	for i, e := range exprs(b) {
		s, err := schedule.Parse(e)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name(i), func(b *testing.B) {
			for b.Loop() {
				if len(s.Next(10, from)) != 10 {
					b.Fatal("short result")
				}
			}
		})
	}
}

func name(i int) string { return "expr" + string(rune('A'+i)) }
