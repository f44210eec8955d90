package scheduler

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestPlannedAndSkippedAreReported checks the two hooks the status page
// relies on: every next fire time as it is computed, and every tick
// skipped because the previous one still runs.
func TestPlannedAndSkippedAreReported(t *testing.T) {
	clk := newFakeClock(t0)
	release := make(chan struct{})
	var mu sync.Mutex
	var planned []string
	var skipped []Tick
	s := New(Options{
		Clock: clk,
		Grace: failsafe,
		Run: func(ctx context.Context, tk Tick) {
			if tk.Sequence == 1 {
				<-release
			}
		},
		Planned: func(name string, next time.Time, ok bool) {
			mu.Lock()
			defer mu.Unlock()
			planned = append(planned, fmt.Sprintf("%s %s %v", name, next.Format("15:04:05"), ok))
		},
		Skipped: func(tk Tick) {
			mu.Lock()
			defer mu.Unlock()
			skipped = append(skipped, tk)
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, []Job{job(t, "slow", "every 1 sec")})
	}()
	sleep := func() time.Duration {
		select {
		case d := <-clk.calls:
			return d
		case <-time.After(failsafe):
			t.Fatal("the scheduler did not go to sleep")
		}
		return 0
	}
	// The start-up beat blocks; the ticks at +1 s and +2 s are skipped.
	for clk.Now().Before(t0.Add(2 * time.Second)) {
		clk.advance(sleep(), 0)
	}
	sleep()
	close(release)
	cancel()
	select {
	case <-done:
	case <-time.After(failsafe):
		t.Fatal("Run did not return")
	}
	mu.Lock()
	defer mu.Unlock()
	if got, want := fmt.Sprint(planned), "[slow 10:00:01 true slow 10:00:02 true slow 10:00:03 true]"; got != want {
		t.Errorf("planned %s, want %s", got, want)
	}
	if len(skipped) != 2 || skipped[0].Sequence != 2 || !skipped[0].ScheduledAt.Equal(t0.Add(time.Second)) || skipped[1].Sequence != 3 || !skipped[1].ScheduledAt.Equal(t0.Add(2*time.Second)) {
		t.Errorf("skipped %+v, want the ticks 2 and 3 due at +1 s and +2 s", skipped)
	}
}
