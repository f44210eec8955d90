package scheduler

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The real timerfd wakes at a wall-clock time, never before it.
func TestTimerfdFiresAtWallTime(t *testing.T) {
	wt, err := SystemClock{}.newWallTimer()
	if err != nil {
		t.Fatalf("no timerfd: %v", err)
	}
	defer wt.Close()
	for i := range 3 {
		at := time.Now().Add(200 * time.Millisecond)
		if err := wt.Arm(at); err != nil {
			t.Fatal(err)
		}
		select {
		case <-wt.C():
		case <-time.After(failsafe):
			t.Fatalf("round %d: the timer armed for %v did not fire", i, at)
		}
		if now := time.Now(); now.Before(at) {
			t.Errorf("round %d: woke at %v, before the time armed %v", i, now, at)
		}
	}
}

// Disarmed, the timerfd stays silent; closed, its reader stops and Arm fails.
func TestTimerfdDisarmAndClose(t *testing.T) {
	wt, err := SystemClock{}.newWallTimer()
	if err != nil {
		t.Fatalf("no timerfd: %v", err)
	}
	if err := wt.Arm(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := wt.Arm(time.Time{}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-wt.C():
		t.Error("a disarmed timer fired")
	case <-time.After(500 * time.Millisecond):
	}
	if err := wt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := wt.Arm(time.Now().Add(time.Hour)); err == nil {
		t.Error("Arm after Close succeeded")
	}
}

// A read failing with ECANCELED (the clock was set) wakes the scheduler
// like an expiry; EINTR is retried; a closed file ends the reader.
func TestWatchExpiries(t *testing.T) {
	eight := func(b []byte) (int, error) { return copy(b, []byte{1, 0, 0, 0, 0, 0, 0, 0}), nil }
	tests := []struct {
		name  string
		reads []func([]byte) (int, error)
		wakes int
		err   error
	}{
		{"expiry", []func([]byte) (int, error){eight}, 1, os.ErrClosed},
		{"clock set", []func([]byte) (int, error){func([]byte) (int, error) { return 0, &os.PathError{Op: "read", Path: "timerfd", Err: unix.ECANCELED} }}, 1, os.ErrClosed},
		{"interrupted", []func([]byte) (int, error){func([]byte) (int, error) { return 0, unix.EINTR }, eight}, 1, os.ErrClosed},
		{"empty read", []func([]byte) (int, error){func([]byte) (int, error) { return 0, nil }}, 0, io.ErrUnexpectedEOF},
		{"bad fd", []func([]byte) (int, error){func([]byte) (int, error) { return 0, unix.EBADF }}, 0, unix.EBADF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := make(chan struct{}, 10)
			i := 0
			read := func(b []byte) (int, error) {
				if i == len(tc.reads) {
					return 0, os.ErrClosed
				}
				i++
				return tc.reads[i-1](b)
			}
			if err := watchExpiries(read, c); !errors.Is(err, tc.err) {
				t.Errorf("watchExpiries = %v, want %v", err, tc.err)
			}
			if len(c) != tc.wakes {
				t.Errorf("%d wake-ups, want %d", len(c), tc.wakes)
			}
		})
	}
}

// With the real clock the scheduler beats on time through its timerfd.
func TestSchedulerOnTimerfd(t *testing.T) {
	ticks := make(chan Tick, 10)
	s := New(Options{Run: func(_ context.Context, tk Tick) { ticks <- tk }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, []Job{job(t, "fast", "every 1 second")}) }()
	defer func() { cancel(); <-done }()
	for i := range 3 {
		select {
		case tk := <-ticks:
			if now := time.Now(); now.Before(tk.ScheduledAt) {
				t.Errorf("tick %d ran at %v, before it was due at %v", tk.Sequence, now, tk.ScheduledAt)
			}
		case <-time.After(failsafe):
			t.Fatalf("only %d ticks", i)
		}
	}
}
