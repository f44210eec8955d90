//go:build !(linux && amd64)

package schedule

import "time"

// wallClockMS is the wall clock in milliseconds since the epoch.
func wallClockMS() int64 { return toMS(time.Now()) }
