package scheduler

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// A tick that Start takes runs until Start's done is called: the next
// tick of the same heartbeat is skipped meanwhile, others go on, and a
// tick Start declines goes to Run.
func TestStartTakesTicks(t *testing.T) {
	var mu sync.Mutex
	var started []Tick
	var pending []func()
	begin := func(_ context.Context, tk Tick, done func()) bool {
		if tk.Heartbeat != "async" {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		started = append(started, tk)
		pending = append(pending, done)
		return true
	}
	finish := func() {
		mu.Lock()
		dones := pending
		pending = nil
		mu.Unlock()
		for _, done := range dones {
			done()
		}
	}
	h := startWith(t, t0, time.Second, nil, begin, job(t, "async", "every 1 sec"), job(t, "run", "every 1 sec"))
	h.hold("async", true)
	// async's start-up beat is not done: its next two ticks are skipped.
	h.runUntil(t0.Add(2 * time.Second))
	finish()
	h.runUntil(t0.Add(3 * time.Second))
	finish()
	h.runUntil(t0.Add(4 * time.Second))
	finish()
	h.stop()

	mu.Lock()
	var seqs []uint64
	for _, tk := range started {
		seqs = append(seqs, tk.Sequence)
	}
	mu.Unlock()
	if fmt.Sprint(seqs) != "[1 4 5]" {
		t.Errorf("async sequences = %v, want [1 4 5]: a tick not yet done skips the next", seqs)
	}
	if got := h.ticksOf("async"); len(got) != 0 {
		t.Errorf("Run got %d ticks that Start took", len(got))
	}
	checkTimes(t, "run", h.ticksOf("run"), clock("2024-03-01T10:00:00Z", "2024-03-01T10:00:01Z", "2024-03-01T10:00:02Z", "2024-03-01T10:00:03Z", "2024-03-01T10:00:04Z"))
}

// Shutdown waits for a started tick's done within the grace period, and
// cancels its context after it.
func TestStartShutdownWaitsForDone(t *testing.T) {
	cut := make(chan struct{})
	begin := func(ctx context.Context, _ Tick, done func()) bool {
		context.AfterFunc(ctx, func() {
			close(cut)
			done()
		})
		return true
	}
	h := startWith(t, t0, time.Second, nil, begin, job(t, "async", "every 1 hour"))
	h.hold("async", true)
	h.park()
	h.cancel()
	// The grace period runs on the fake clock: Run waits until it ends.
	select {
	case d := <-h.clk.calls:
		select {
		case <-h.done:
			t.Fatal("Run returned while a started tick was not done")
		case <-time.After(50 * time.Millisecond):
		}
		h.clk.advance(d, 0)
	case <-time.After(failsafe):
		t.Fatal("shutdown did not wait for the started tick")
	}
	select {
	case <-cut:
	case <-time.After(failsafe):
		t.Fatal("the started tick's context was not cancelled after the grace period")
	}
	select {
	case <-h.done:
	case <-time.After(failsafe):
		t.Fatal("Run did not return once the started tick was done")
	}
}
