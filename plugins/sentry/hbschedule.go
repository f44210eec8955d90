package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// fromHeartbeat maps the heartbeat's schedule, as the core sends it with
// each beat, to a monitor schedule. It returns why Sentry cannot take it
// instead, worded as the fix, when it cannot: then no schedule is sent
// rather than a wrong one, since Sentry drops a check-in with an invalid
// schedule after its 202 and would raise missed check-ins for a schedule
// other than the heartbeat's.
func fromHeartbeat(s sdk.Schedule) (schedule, string) {
	switch {
	case s.Cron != "":
		return cronFromHeartbeat(s.Cron)
	case s.Frequency != "":
		return intervalFromHeartbeat(s.Frequency)
	}
	return schedule{}, "the beat came with no schedule (a one-shot heartbeat exec, or a core too old to send it): set schedule"
}

// cronFromHeartbeat takes a 5-field crontab as it is; Sentry's crontab has
// no seconds field and no @macros.
func cronFromHeartbeat(expr string) (schedule, string) {
	fields := strings.Fields(expr)
	quoted := strconv.Quote(truncate(expr, 60))
	switch {
	case strings.HasPrefix(strings.TrimSpace(expr), "@"):
		return schedule{}, fmt.Sprintf("cron %s is a macro, which Sentry's crontab does not take: set schedule to its 5 fields (e.g. \"0 * * * *\" for @hourly)", quoted)
	case len(fields) == 6:
		return schedule{}, fmt.Sprintf("cron %s has a seconds field, which Sentry's crontab does not have: set schedule to a 5-field crontab or an interval such as \"every 1 minute\"", quoted)
	}
	if err := checkCrontab(fields); err != nil {
		return schedule{}, fmt.Sprintf("cron %s: %v; set schedule to what Sentry should expect", quoted, err)
	}
	return schedule{Type: "crontab", Value: strings.Join(fields, " ")}, ""
}

// laterUnits are later.js's names of the periods `every N <period>` can
// count (core/schedule's lexer) that a Sentry interval can express, with
// the unit, and the unit of one cycle of them: later.js counts steps
// within the enclosing period, so `every 90 minutes` fires once an hour.
var laterUnits = map[string]struct {
	unit  string
	cycle int
	next  string
}{
	"m": {"minute", 60, "hour"}, "min": {"minute", 60, "hour"}, "mins": {"minute", 60, "hour"},
	"minute": {"minute", 60, "hour"}, "minutes": {"minute", 60, "hour"},
	"h": {"hour", 24, "day"}, "hour": {"hour", 24, "day"}, "hours": {"hour", 24, "day"},
	"day": {"day", 31, "month"}, "days": {"day", 31, "month"},
	"day of the month": {"day", 31, "month"}, "days of the month": {"day", 31, "month"},
	"week": {"week", 53, "year"}, "weeks": {"week", 53, "year"},
	"week of the year": {"week", 53, "year"}, "weeks of the year": {"week", 53, "year"},
	"month": {"month", 12, "year"}, "months": {"month", 12, "year"},
	"year": {"year", 0, ""}, "years": {"year", 0, ""},
}

// intervalFromHeartbeat maps `every [N] <period>` to an interval of N
// periods: the longest gap between two fires (later.js starts counting
// again at the start of the enclosing period, which only shortens the gap
// there), so Sentry never expects a check-in sooner than one comes.
func intervalFromHeartbeat(freq string) (schedule, string) {
	quoted := strconv.Quote(truncate(freq, 60))
	other := fmt.Sprintf("frequency %s is not of the form \"every N minutes\" (or hours, days, weeks, months, years), the only one a Sentry interval expresses: set schedule to a crontab or interval that matches it", quoted)
	words := strings.Fields(strings.ToLower(freq))
	if len(words) < 2 || words[0] != "every" {
		return schedule{}, other
	}
	n, rest := 1, words[1:]
	if v, err := strconv.Atoi(rest[0]); err == nil {
		if v < 0 || len(rest) < 2 {
			return schedule{}, other
		}
		// later.js reads every 0 as every 1.
		n, rest = max(v, 1), rest[1:]
	}
	name := strings.Join(rest, " ")
	switch name {
	case "s", "sec", "secs", "second", "seconds":
		return schedule{}, fmt.Sprintf("frequency %s counts seconds; Sentry's schedules count minutes at the least: set schedule (e.g. \"every 1 minute\"), or leave upsert off", quoted)
	}
	u, ok := laterUnits[name]
	if !ok {
		return schedule{}, other
	}
	if u.cycle > 0 && n >= u.cycle {
		return schedule{Type: "interval", Value: 1, Unit: u.next}, ""
	}
	return schedule{Type: "interval", Value: n, Unit: u.unit}, ""
}
