package stats

import (
	"testing"
	"time"
)

func TestMatchArrivals(t *testing.T) {
	base := time.Unix(1_000_000, 0)
	at := func(sec float64) int64 { return base.Add(time.Duration(sec * float64(time.Second))).UnixNano() }
	w := Window{From: base.Add(10 * time.Second), To: base.Add(15 * time.Second)} // seconds 10..14
	tests := []struct {
		name       string
		arrivals   []int64
		delivered  int
		lateness   []time.Duration
		late1s     int
		lostSecond []int // window offsets with a lost beat
	}{
		{"on time", []int64{at(9.01), at(10.01), at(11.01), at(12.01), at(13.01), at(14.01), at(15.01)}, 5,
			[]time.Duration{10, 10, 10, 10, 10}, 0, nil},
		{"a beat due before the window arrives inside it", []int64{at(10.5), at(10.6), at(11.01), at(12.01), at(13.01), at(14.01)}, 5,
			[]time.Duration{10, 10, 10, 10, 600}, 0, nil},
		{"more than a second late", []int64{at(9.01), at(11.2), at(11.3), at(12.01), at(13.01), at(14.01)}, 5,
			[]time.Duration{10, 10, 10, 300, 1200}, 1, nil},
		{"one lost", []int64{at(9.01), at(10.01), at(12.01), at(13.01), at(14.01)}, 4,
			[]time.Duration{10, 10, 10, 10}, 0, []int{1}},
		{"none", nil, 0, nil, 0, []int{0, 1, 2, 3, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := MatchArrivals([][]int64{tt.arrivals}, w)
			if m.Expected != 5 || m.Delivered != tt.delivered || m.Lost() != 5-tt.delivered {
				t.Fatalf("expected/delivered/lost = %d/%d/%d, want 5/%d/%d", m.Expected, m.Delivered, m.Lost(), tt.delivered, 5-tt.delivered)
			}
			if len(m.Lateness) != len(tt.lateness) {
				t.Fatalf("lateness %v, want %v (ms)", m.Lateness, tt.lateness)
			}
			for i, l := range tt.lateness {
				if m.Lateness[i] != l*time.Millisecond {
					t.Fatalf("lateness %v, want %v (ms)", m.Lateness, tt.lateness)
				}
			}
			if m.Late1s != tt.late1s {
				t.Errorf("late1s = %d, want %d", m.Late1s, tt.late1s)
			}
			var lostSeconds []int
			for i, n := range m.LostAt {
				if n > 0 {
					lostSeconds = append(lostSeconds, i)
				}
			}
			if len(lostSeconds) != len(tt.lostSecond) {
				t.Fatalf("lost at %v, want %v", lostSeconds, tt.lostSecond)
			}
			for i := range lostSeconds {
				if lostSeconds[i] != tt.lostSecond[i] {
					t.Fatalf("lost at %v, want %v", lostSeconds, tt.lostSecond)
				}
			}
		})
	}
}

func TestPercentileAndSpread(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 5}, {99, 10}, {100, 10}, {10, 1}, {0, 1}} {
		if got := Percentile(d, c.p); got != c.want {
			t.Errorf("Percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if s := SpreadOf([]float64{3, 1, 2, 4}); s != (Spread{1, 2.5, 4}) {
		t.Errorf("SpreadOf = %+v", s)
	}
}
