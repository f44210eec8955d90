package scheduler

import "time"

// Clock is the scheduler's view of time; tests inject a fake one.
type Clock interface {
	// Now is the wall clock: fire times follow it, as in later.js.
	Now() time.Time
	// After waits for d on the monotonic clock.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now without its monotonic clock reading: the scheduler
// compares wall-clock times, and two readings that carry monotonic times are
// compared by those, which would hide a wall clock set back.
func (SystemClock) Now() time.Time { return time.Now().Round(0) }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
