package main

import (
	"strings"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// The heartbeat's schedule becomes the monitor's when Sentry can express
// it, and is refused with a fix naming the schedule setting when it
// cannot.
func TestFromHeartbeat(t *testing.T) {
	interval := func(n int, unit string) schedule { return schedule{Type: "interval", Value: n, Unit: unit} }
	cases := []struct {
		name string
		in   sdk.Schedule
		want schedule
		why  string // part of the reason, when refused
	}{
		{"every 1 minute", sdk.Schedule{Frequency: "every 1 minute"}, interval(1, "minute"), ""},
		{"plural", sdk.Schedule{Frequency: "every 15 minutes"}, interval(15, "minute"), ""},
		{"abbreviated", sdk.Schedule{Frequency: "every 5 mins"}, interval(5, "minute"), ""},
		{"no number", sdk.Schedule{Frequency: "every hour"}, interval(1, "hour"), ""},
		{"upper case", sdk.Schedule{Frequency: "Every 2 Hours"}, interval(2, "hour"), ""},
		{"days", sdk.Schedule{Frequency: "every 3 days"}, interval(3, "day"), ""},
		{"day of the month", sdk.Schedule{Frequency: "every 1 day of the month"}, interval(1, "day"), ""},
		{"weeks", sdk.Schedule{Frequency: "every 2 weeks"}, interval(2, "week"), ""},
		{"months", sdk.Schedule{Frequency: "every 6 months"}, interval(6, "month"), ""},
		{"years", sdk.Schedule{Frequency: "every 2 years"}, interval(2, "year"), ""},
		{"every 0 is every 1", sdk.Schedule{Frequency: "every 0 minutes"}, interval(1, "minute"), ""},
		// later.js counts minutes within the hour: 90 fires at minute 0 only.
		{"past the hour", sdk.Schedule{Frequency: "every 90 minutes"}, interval(1, "hour"), ""},
		{"past the day", sdk.Schedule{Frequency: "every 24 hours"}, interval(1, "day"), ""},
		{"past the year", sdk.Schedule{Frequency: "every 12 months"}, interval(1, "year"), ""},
		{"timezone ignored here", sdk.Schedule{Frequency: "every 1 day", Timezone: "Asia/Tokyo"}, interval(1, "day"), ""},
		{"seconds", sdk.Schedule{Frequency: "every 30 seconds"}, schedule{}, "count minutes at the least"},
		{"one second", sdk.Schedule{Frequency: "every 1 sec"}, schedule{}, "count minutes at the least"},
		{"at a time", sdk.Schedule{Frequency: "at 10:15 am"}, schedule{}, "set schedule"},
		{"every with on", sdk.Schedule{Frequency: "every 5 minutes on Mon"}, schedule{}, "set schedule"},
		{"weekday", sdk.Schedule{Frequency: "every weekday"}, schedule{}, "set schedule"},
		{"range", sdk.Schedule{Frequency: "after 9:00 before 17:00 every 5 minutes"}, schedule{}, "set schedule"},
		{"negative", sdk.Schedule{Frequency: "every -5 minutes"}, schedule{}, "set schedule"},
		{"number alone", sdk.Schedule{Frequency: "every 5"}, schedule{}, "set schedule"},
		{"every alone", sdk.Schedule{Frequency: "every"}, schedule{}, "set schedule"},
		{"crontab", sdk.Schedule{Cron: "*/5 * * * *"}, schedule{Type: "crontab", Value: "*/5 * * * *"}, ""},
		{"crontab spaced", sdk.Schedule{Cron: " 30  2 * * mon-fri ", Timezone: "Europe/Stockholm"}, schedule{Type: "crontab", Value: "30 2 * * mon-fri"}, ""},
		{"seconds field", sdk.Schedule{Cron: "0 */5 * * * *"}, schedule{}, "seconds field"},
		{"macro", sdk.Schedule{Cron: "@hourly"}, schedule{}, "macro"},
		{"question mark", sdk.Schedule{Cron: "0 0 ? * mon"}, schedule{}, "day of month"},
		{"none", sdk.Schedule{}, schedule{}, "no schedule"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, why := fromHeartbeat(c.in)
			if c.why == "" {
				if why != "" || got != c.want {
					t.Fatalf("fromHeartbeat(%+v) = %+v, %q; want %+v", c.in, got, why, c.want)
				}
				return
			}
			if got != (schedule{}) || !strings.Contains(why, c.why) || !strings.Contains(why, "schedule") {
				t.Fatalf("fromHeartbeat(%+v) = %+v, %q; want no schedule and a reason with %q", c.in, got, why, c.why)
			}
		})
	}
}

// A hostile expression is quoted cut short in the reason.
func TestFromHeartbeatBoundsTheReason(t *testing.T) {
	long := "at " + strings.Repeat("x", 10000)
	for _, s := range []sdk.Schedule{{Frequency: long}, {Cron: "@" + long}, {Cron: long + " * * * * *"}} {
		if _, why := fromHeartbeat(s); len(why) > 400 || why == "" {
			t.Errorf("reason of %d bytes for a %d-byte schedule: %.100s", len(why), len(s.Frequency+s.Cron), why)
		}
	}
}
