package scheduler

import "time"

// wallTimer wakes the scheduler when the wall clock reaches a time, and
// early when the system clock is set, so a sleep of an hour is one wake-up
// that still notices a clock jump or a suspend.
type wallTimer interface {
	// Arm sets the wake-up time, replacing the one before; a zero time
	// disarms the timer.
	Arm(at time.Time) error
	// C receives after the time armed was reached or the clock was set. A
	// receive may be stale (from an earlier Arm): the scheduler re-plans.
	C() <-chan struct{}
	Close() error
}

// wallTimerClock is a Clock that has a wallTimer. Only the real clock has
// one on Linux; other clocks and platforms sleep at most maxSleep at a time.
type wallTimerClock interface {
	newWallTimer() (wallTimer, error)
}
