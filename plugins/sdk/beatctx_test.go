package sdk

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// waitDone waits for ctx to end, failing t after a bound far above any
// timer's lateness under load.
func waitDone(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the context did not end")
	}
}

func TestBeatContextEnds(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration // from now; 0: none
		cancel   bool
		want     error
	}{
		{"deadline passes", 20 * time.Millisecond, false, context.DeadlineExceeded},
		{"deadline already past", -time.Second, false, context.DeadlineExceeded},
		{"cancelled before its deadline", time.Hour, true, context.Canceled},
		{"cancelled without a deadline", 0, true, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var deadline time.Time
			if tt.deadline != 0 {
				deadline = time.Now().Add(tt.deadline)
			}
			ctx := newBeatContext(deadline)
			if got, ok := ctx.Deadline(); ok != !deadline.IsZero() || !got.Equal(deadline) {
				t.Errorf("Deadline() = %v %v, want %v", got, ok, deadline)
			}
			var ended atomic.Int32
			stop := ctx.whenEnded(func() { ended.Add(1) })
			defer stop()
			child, cancelChild := context.WithCancel(ctx)
			defer cancelChild()
			afterRan := make(chan struct{})
			context.AfterFunc(ctx, func() { close(afterRan) })
			if tt.cancel {
				if ctx.Err() != nil {
					t.Fatalf("Err() = %v before the end", ctx.Err())
				}
				ctx.cancel()
			}
			waitDone(t, ctx)
			waitDone(t, child)
			<-afterRan
			ctx.cancel() // a second end changes nothing
			if !errors.Is(ctx.Err(), tt.want) || !errors.Is(child.Err(), tt.want) || !errors.Is(context.Cause(child), tt.want) {
				t.Errorf("Err() = %v, child's %v (cause %v), want %v", ctx.Err(), child.Err(), context.Cause(child), tt.want)
			}
			if n := ended.Load(); n != 1 {
				t.Errorf("the end function ran %d times, want once", n)
			}
		})
	}
}

// A child cancelled first leaves nothing behind in its parent, and a
// stopped function never runs.
func TestBeatContextForgetsStoppedChildren(t *testing.T) {
	ctx := newBeatContext(time.Time{})
	for range 100 {
		child, cancel := context.WithCancel(ctx)
		cancel()
		<-child.Done()
	}
	ran := false
	stopAfter := context.AfterFunc(ctx, func() { ran = true })
	if !stopAfter() {
		t.Error("stopping a pending AfterFunc reported false")
	}
	stopEnd := ctx.whenEnded(func() { ran = true })
	stopEnd()
	ctx.mu.Lock()
	left := len(ctx.afters)
	ctx.mu.Unlock()
	if left != 0 {
		t.Errorf("%d children still registered after all were cancelled", left)
	}
	ctx.cancel()
	time.Sleep(10 * time.Millisecond) // an AfterFunc would run on its own goroutine
	if ran {
		t.Error("a stopped function ran")
	}
}

// Children of a beat's context are watched without a goroutine each: the
// context package finds the context's AfterFunc.
func TestBeatContextChildrenNeedNoGoroutine(t *testing.T) {
	ctx := newBeatContext(time.Now().Add(time.Hour))
	defer ctx.cancel()
	before := runtime.NumGoroutine()
	const children = 200
	cancels := make([]context.CancelFunc, 0, children)
	for range children {
		_, cancel := context.WithCancel(ctx)
		cancels = append(cancels, cancel)
	}
	if grew := runtime.NumGoroutine() - before; grew >= children/2 {
		t.Errorf("%d goroutines more for %d children", grew, children)
	}
	for _, cancel := range cancels {
		cancel()
	}
}

// whenEnded on a context that already ended runs the function at once.
func TestBeatContextWhenEndedAfterTheEnd(t *testing.T) {
	ctx := newBeatContext(time.Time{})
	ctx.cancel()
	ran := false
	ctx.whenEnded(func() { ran = true })()
	if !ran {
		t.Error("the function did not run")
	}
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	waitDone(t, child)
}
