package scheduler

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// wallClock is a fake Clock with a wall timer: the test sets the wall
// clock and fires the timer, as the kernel does at the time armed or when
// the clock is set. After must not be used while the wall timer works.
type wallClock struct {
	mu      sync.Mutex
	wall    time.Time
	armed   chan time.Time // every Arm, in order
	c       chan struct{}
	armErr  error
	afters  chan time.Duration
	closed  chan struct{}
	noTimer bool
}

func newWallClock(at time.Time) *wallClock {
	return &wallClock{wall: at, armed: make(chan time.Time, 100), c: make(chan struct{}, 1), afters: make(chan time.Duration, 100), closed: make(chan struct{})}
}

func (c *wallClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}

func (c *wallClock) After(d time.Duration) <-chan time.Time {
	c.afters <- d
	return make(chan time.Time) // never fires: the test ends the run
}

func (c *wallClock) set(at time.Time) {
	c.mu.Lock()
	c.wall = at
	c.mu.Unlock()
}

func (c *wallClock) newWallTimer() (wallTimer, error) {
	if c.noTimer {
		return nil, errors.New("no timerfd here")
	}
	return fakeWallTimer{c}, nil
}

type fakeWallTimer struct{ c *wallClock }

func (t fakeWallTimer) Arm(at time.Time) error {
	t.c.mu.Lock()
	err := t.c.armErr
	t.c.mu.Unlock()
	if err != nil {
		return err
	}
	t.c.armed <- at
	return nil
}

func (t fakeWallTimer) C() <-chan struct{} { return t.c.c }
func (t fakeWallTimer) Close() error       { close(t.c.closed); return nil }

// runWall runs a scheduler on c with jobs; ticks receives every tick.
// Each tick has ended before it is received: a tick still running when
// the test moves the clock would make the scheduler skip the next one.
func runWall(t *testing.T, c *wallClock, jobs ...Job) (ticks chan Tick, logs *syncBuffer, stop func()) {
	t.Helper()
	ticks, logs = make(chan Tick, 100), &syncBuffer{}
	s := New(Options{
		Clock:  c,
		Logger: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Debug}),
		Run:    func(context.Context, Tick) { t.Error("a tick went to Run, not Start") },
		Start: func(_ context.Context, tk Tick, done func()) bool {
			done()
			ticks <- tk
			return true
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx, jobs)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(failsafe):
				t.Error("Run did not return after its context was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return ticks, logs, stop
}

func nextArm(t *testing.T, c *wallClock) time.Time {
	t.Helper()
	select {
	case at := <-c.armed:
		return at
	case d := <-c.afters:
		t.Fatalf("the scheduler slept %s on the monotonic clock instead of arming its wall timer", d)
	case <-time.After(failsafe):
		t.Fatal("the scheduler did not arm its wall timer")
	}
	return time.Time{}
}

func nextTick(t *testing.T, ticks chan Tick) Tick {
	t.Helper()
	select {
	case tk := <-ticks:
		return tk
	case <-time.After(failsafe):
		t.Fatal("no tick")
	}
	return Tick{}
}

// An hourly heartbeat sleeps one hour at a time: one wake-up per beat.
func TestWallTimerSleepsUntilTheNextFire(t *testing.T) {
	c := newWallClock(t0)
	ticks, _, stop := runWall(t, c, job(t, "hourly", "every 1 hour"))
	if tk := nextTick(t, ticks); !tk.Startup {
		t.Fatalf("first tick %+v is not the start-up beat", tk)
	}
	if at := nextArm(t, c); !at.Equal(t0.Add(time.Hour)) {
		t.Fatalf("armed at %v, want the next fire time %v", at, t0.Add(time.Hour))
	}
	// The kernel wakes the loop at the time armed.
	c.set(t0.Add(time.Hour))
	c.c <- struct{}{}
	if tk := nextTick(t, ticks); !tk.ScheduledAt.Equal(t0.Add(time.Hour)) || tk.Sequence != 2 {
		t.Errorf("tick %+v, want sequence 2 at %v", tk, t0.Add(time.Hour))
	}
	if at := nextArm(t, c); !at.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("re-armed at %v, want %v", at, t0.Add(2*time.Hour))
	}
	select {
	case d := <-c.afters:
		t.Errorf("the scheduler also slept %s on the monotonic clock", d)
	default:
	}
	stop()
	select {
	case <-c.closed:
	default:
		t.Error("the wall timer was not closed when Run returned")
	}
}

// A stale or early wake-up fires nothing and re-arms the same time.
func TestWallTimerEarlyWakeFiresNothing(t *testing.T) {
	c := newWallClock(t0)
	ticks, _, _ := runWall(t, c, job(t, "hourly", "every 1 hour"))
	nextTick(t, ticks)
	nextArm(t, c)
	c.set(t0.Add(10 * time.Minute))
	c.c <- struct{}{}
	if at := nextArm(t, c); !at.Equal(t0.Add(time.Hour)) {
		t.Errorf("re-armed at %v, want %v", at, t0.Add(time.Hour))
	}
	select {
	case tk := <-ticks:
		t.Errorf("an early wake-up fired %+v", tk)
	default:
	}
}

// The clock set while the loop sleeps (the timerfd read fails with
// ECANCELED): set back, every heartbeat is planned again from the new time;
// set forward, what became due beats once.
func TestWallTimerClockSet(t *testing.T) {
	t.Run("back", func(t *testing.T) {
		c := newWallClock(t0)
		ticks, logs, _ := runWall(t, c, job(t, "hourly", "every 1 hour"))
		nextTick(t, ticks)
		nextArm(t, c)
		back := t0.Add(-3 * time.Hour)
		c.set(back)
		c.c <- struct{}{}
		if at := nextArm(t, c); !at.Equal(back.Add(time.Hour)) {
			t.Errorf("re-armed at %v, want an hour after the new time, %v", at, back.Add(time.Hour))
		}
		if !strings.Contains(logs.String(), "the system clock went back") {
			t.Errorf("log lacks the clock warning:\n%s", logs.String())
		}
		select {
		case tk := <-ticks:
			t.Errorf("a clock set back fired %+v", tk)
		default:
		}
	})
	t.Run("forward", func(t *testing.T) {
		c := newWallClock(t0)
		ticks, _, _ := runWall(t, c, job(t, "hourly", "every 1 hour"))
		nextTick(t, ticks)
		nextArm(t, c)
		fwd := t0.Add(5*time.Hour + 30*time.Minute)
		c.set(fwd)
		c.c <- struct{}{}
		if tk := nextTick(t, ticks); !tk.ScheduledAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("late tick %+v, want the one due at %v", tk, t0.Add(time.Hour))
		}
		if at := nextArm(t, c); !at.Equal(t0.Add(6 * time.Hour)) {
			t.Errorf("re-armed at %v, want %v", at, t0.Add(6*time.Hour))
		}
		select {
		case tk := <-ticks:
			t.Errorf("a jump forward beat more than once: %+v", tk)
		default:
		}
	})
}

// Without jobs the timer is disarmed: the loop waits for an update only.
func TestWallTimerDisarmedWithoutJobs(t *testing.T) {
	c := newWallClock(t0)
	runWall(t, c)
	if at := nextArm(t, c); !at.IsZero() {
		t.Errorf("armed at %v with no job, want disarmed", at)
	}
}

// A clock whose wall timer cannot be made or armed falls back to sleeps of
// at most maxSleep.
func TestWallTimerFallback(t *testing.T) {
	t.Run("none", func(t *testing.T) {
		c := newWallClock(t0)
		c.noTimer = true
		runWall(t, c, job(t, "hourly", "every 1 hour"))
		select {
		case d := <-c.afters:
			if d != maxSleep {
				t.Errorf("slept %s, want %s", d, maxSleep)
			}
		case <-time.After(failsafe):
			t.Fatal("the scheduler did not sleep")
		}
	})
	t.Run("arm fails", func(t *testing.T) {
		c := newWallClock(t0)
		c.armErr = errors.New("EBADF")
		_, logs, _ := runWall(t, c, job(t, "hourly", "every 1 hour"))
		select {
		case d := <-c.afters:
			if d != maxSleep {
				t.Errorf("slept %s, want %s", d, maxSleep)
			}
		case <-time.After(failsafe):
			t.Fatal("the scheduler did not sleep")
		}
		select {
		case <-c.closed:
		case <-time.After(failsafe):
			t.Error("the failed wall timer was not closed")
		}
		if !strings.Contains(logs.String(), "checking the clock every second instead") {
			t.Errorf("log lacks the fallback warning:\n%s", logs.String())
		}
	})
}
