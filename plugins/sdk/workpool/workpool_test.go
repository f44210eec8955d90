package workpool

import (
	"sync"
	"testing"
	"time"
)

func TestPoolRunsEveryFunction(t *testing.T) {
	for _, tc := range []struct {
		name    string
		maxIdle int
		calls   int
	}{
		{"one idle goroutine", 1, 1000},
		{"many idle goroutines", 64, 1000},
		{"maxIdle below one is one", 0, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(tc.maxIdle)
			var wg sync.WaitGroup
			var mu sync.Mutex
			seen := map[int]bool{}
			for i := range tc.calls {
				wg.Add(1)
				p.Go(func() {
					defer wg.Done()
					mu.Lock()
					seen[i] = true
					mu.Unlock()
				})
			}
			wg.Wait()
			if len(seen) != tc.calls {
				t.Fatalf("%d of %d functions ran", len(seen), tc.calls)
			}
			if idle := p.Idle(); idle > max(tc.maxIdle, 1) {
				t.Fatalf("%d goroutines idle, want at most %d", idle, max(tc.maxIdle, 1))
			}
		})
	}
}

// A function that blocks must not hold up the others: Go starts a new
// goroutine when none is idle.
func TestPoolSlowFunctionDelaysNoOther(t *testing.T) {
	p := New(4)
	release := make(chan struct{})
	defer close(release)
	for range 8 {
		p.Go(func() { <-release })
	}
	done := make(chan struct{})
	p.Go(func() { close(done) })
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("a function waited behind blocked ones")
	}
}

// Finished goroutines are reused: calls made one at a time, each once the
// last goroutine has parked, are handed to that goroutine.
func TestPoolReusesIdleGoroutines(t *testing.T) {
	p := New(8)
	const calls = 100
	for i := range calls {
		if i > 0 {
			waitIdle(t, p)
		}
		done := make(chan struct{})
		p.Go(func() { close(done) })
		<-done
	}
	// A call can race a goroutine between counting itself idle and
	// parking, and start another; that is rare, not the rule.
	if n := p.started.Load(); n > calls/2 {
		t.Fatalf("%d goroutines started for %d calls made one at a time, want reuse", n, calls)
	}
}

func waitIdle(t *testing.T, p *Pool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for p.Idle() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no goroutine parked within 30s")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// Close ends the parked goroutines; Go keeps working after it.
func TestPoolCloseEndsIdleGoroutines(t *testing.T) {
	p := New(8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		p.Go(wg.Done)
	}
	wg.Wait()
	waitIdle(t, p)
	p.Close()
	deadline := time.Now().Add(30 * time.Second)
	for p.Idle() != 0 || p.ended.Load() != p.started.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines parked, %d of %d ended, 30s after Close", p.Idle(), p.ended.Load(), p.started.Load())
		}
		time.Sleep(100 * time.Microsecond)
	}
	done := make(chan struct{})
	p.Go(func() { close(done) })
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Go after Close did not run the function")
	}
	p.Close() // twice is fine
}
