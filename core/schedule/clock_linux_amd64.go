package schedule

import (
	"syscall"
	"time"
)

// wallClockMS is the wall clock in milliseconds since the epoch. Parse
// needs nothing more for its fire check, and gettimeofday (a vDSO call
// here) costs half of time.Now, which reads the monotonic clock too.
func wallClockMS() int64 {
	var tv syscall.Timeval
	if syscall.Gettimeofday(&tv) != nil {
		return toMS(time.Now())
	}
	return tv.Sec*1000 + tv.Usec/1000
}
