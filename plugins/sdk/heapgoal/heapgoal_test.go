package heapgoal

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	tests := []struct {
		name string
		live uint64
		want int
	}{
		{"empty", 0, MaxPercent},
		{"small", 2 << 20, MaxPercent},
		{"a quarter of the floor", Floor / 4, MaxPercent},
		{"half the floor", Floor / 2, 200},
		{"at the floor", Floor, 100},
		{"twice the floor", 2 * Floor, 50},
		{"three times the floor", 3 * Floor, 33},
		{"four times the floor", 4 * Floor, 25},
		{"huge", 1 << 40, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percent(tt.live); got != tt.want {
				t.Errorf("Percent(%d) = %d, want %d", tt.live, got, tt.want)
			}
		})
	}
}

func gogc() uint64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// waitForGOGC collects until GOGC is want; the tuner sets it after a cycle.
func waitForGOGC(t *testing.T, want uint64) {
	t.Helper()
	waitForGOGCTo(t, fmt.Sprint(want), func(p uint64) bool { return p == want })
}

// waitForGOGCTo collects until ok(GOGC).
func waitForGOGCTo(t *testing.T, want string, ok func(uint64) bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok(gogc()) {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC is %d, want %s", gogc(), want)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

var held []byte

// GOGC follows the live heap down when it grows and back up when it
// shrinks; stop puts back the default.
func TestStartFollowsTheLiveHeap(t *testing.T) {
	t.Setenv("GOGC", "")
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	stop := Start()
	held = make([]byte, 8*Floor)
	for i := range held {
		held[i] = 1 // not a zero page: the heap counts it either way
	}
	waitForGOGC(t, MinPercent)
	held = nil
	// What the test binary holds live decides the exact figure: above
	// Go's default, up to MaxPercent.
	waitForGOGCTo(t, "above 100", func(p uint64) bool { return p > 100 && p <= MaxPercent })
	held = make([]byte, 8*Floor)
	waitForGOGC(t, MinPercent)
	stop()
	if got := gogc(); got != 100 {
		t.Errorf("GOGC after stop = %d, want 100", got)
	}
	runtime.GC()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if got := gogc(); got != 100 {
		t.Errorf("GOGC set to %d after stop", got)
	}
	held = nil
}

// A GOGC the user set stands.
func TestUserGOGCStands(t *testing.T) {
	t.Setenv("GOGC", "200")
	defer debug.SetGCPercent(debug.SetGCPercent(200))
	stop := Start()
	defer stop()
	held = make([]byte, 8*Floor)
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := gogc(); got != 200 {
		t.Errorf("GOGC = %d, want the user's 200", got)
	}
	held = nil
}
