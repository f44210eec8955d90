package schedule

import (
	"errors"
	"time"
)

// ParseCron parses a cron expression: 5 fields (minute precision) or 6 (leading seconds field).
func ParseCron(expr string) (*Schedule, error) {
	return nil, errors.New("cron not yet supported")
}

func (s *Schedule) cronNext(n int, from time.Time) []time.Time { return nil }

func (s *Schedule) cronNextFire(now time.Time) (time.Time, bool) { return time.Time{}, false }
