package schedule

import (
	"fmt"
	"strings"
	"time"

	cron "github.com/netresearch/go-cron"
)

// cronParser accepts standard 5-field cron, 6 fields with a leading
// seconds field, and descriptors such as @hourly. Day-of-month and
// day-of-week combine with OR when both are restricted, as in Vixie cron.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom |
	cron.Month | cron.Dow | cron.Descriptor | cron.DowOrDom)

// ParseCron parses a cron expression: 5 fields (minute precision) or 6 (leading seconds field).
func ParseCron(expr string) (*Schedule, error) {
	spec := strings.TrimSpace(expr)
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, fmt.Errorf("invalid cron expression %q: set the time zone with the 'timezone' setting, not a TZ= prefix", expr)
	}
	if n := len(strings.Fields(spec)); !strings.HasPrefix(spec, "@") && n != 5 && n != 6 {
		return nil, fmt.Errorf("invalid cron expression %q: it has %d fields; expected 5 (minute hour day-of-month month day-of-week) or 6 (with a leading seconds field)", expr, n)
	}
	cs, err := cronParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("invalid cron expression %q: %v", expr, err)
	}
	s := &Schedule{expr: expr, cron: cs}
	if _, ok := s.NextFire(time.Now()); !ok {
		return nil, fmt.Errorf("cron expression %q never fires (no occurrence before 2100)", expr)
	}
	return s, nil
}

// cronNext lists occurrences at or after from.
func (s *Schedule) cronNext(n int, from time.Time) []time.Time {
	var out []time.Time
	t := from.In(s.location())
	if _, fixed := s.cron.(*cron.SpecSchedule); fixed {
		t = t.Add(-time.Nanosecond) // from itself counts when it matches
	}
	for len(out) < n {
		t = s.cron.Next(t)
		if t.IsZero() || t.Unix() >= int64(end2100/1000) {
			break
		}
		out = append(out, t)
	}
	return out
}

func (s *Schedule) cronNextFire(now time.Time) (time.Time, bool) {
	t := s.cron.Next(now.In(s.location()))
	if t.IsZero() || !t.After(now) || t.Unix() >= int64(end2100/1000) {
		return time.Time{}, false
	}
	return t, true
}
