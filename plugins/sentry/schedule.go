package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// intervalUnit maps what the schedule setting accepts to Sentry's interval
// units (relay-monitors IntervalName).
func intervalUnit(word string) (string, bool) {
	switch word {
	case "minute", "minutes", "min", "mins":
		return "minute", true
	case "hour", "hours":
		return "hour", true
	case "day", "days":
		return "day", true
	case "week", "weeks":
		return "week", true
	case "month", "months":
		return "month", true
	case "year", "years":
		return "year", true
	}
	return "", false
}

// parseSchedule reads "every 10 minutes", "every hour" or a 5-field
// crontab. Sentry checks a schedule only after it has answered 202 and
// drops a check-in with an invalid one silently, so the check is done here.
func parseSchedule(text string) (schedule, error) {
	fields := strings.Fields(strings.ToLower(text))
	if len(fields) > 0 && fields[0] == "every" {
		return parseInterval(fields[1:])
	}
	if strings.HasPrefix(text, "@") {
		return schedule{}, fmt.Errorf("%q: write the crontab's 5 fields (e.g. \"0 * * * *\" for @hourly) or an interval such as \"every 1 hour\"", truncate(text, 40))
	}
	if err := checkCrontab(strings.Fields(text)); err != nil {
		return schedule{}, err
	}
	return schedule{Type: "crontab", Value: strings.Join(strings.Fields(text), " ")}, nil
}

func parseInterval(rest []string) (schedule, error) {
	const hint = "write an interval as \"every 10 minutes\" (units: minute, hour, day, week, month, year; Sentry has no seconds) or a 5-field crontab"
	n := 1
	switch len(rest) {
	case 1:
	case 2:
		v, err := strconv.Atoi(rest[0])
		if err != nil || v < 1 || v > 1_000_000 {
			return schedule{}, fmt.Errorf("%q is not a whole number of at least 1: %s", truncate(rest[0], 20), hint)
		}
		n = v
		rest = rest[1:]
	default:
		return schedule{}, errors.New(hint)
	}
	unit, ok := intervalUnit(rest[0])
	if !ok {
		if strings.HasPrefix(rest[0], "sec") {
			return schedule{}, errors.New("Sentry's intervals count minutes at the least: use \"every 1 minute\", or leave schedule out for a heartbeat beating more often")
		}
		return schedule{}, fmt.Errorf("%q is not a unit: %s", truncate(rest[0], 20), hint)
	}
	return schedule{Type: "interval", Value: n, Unit: unit}, nil
}

// cronField is one field of a crontab: its range and its names.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
}

// cronFields are the five fields of a crontab, in order.
func cronFields() [5]cronField {
	return [5]cronField{
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day of month", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
		// 7 is Sunday too, as in cron.
		{name: "day of week", min: 0, max: 7, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
	}
}

// checkCrontab accepts standard 5-field crontabs: lists of *, values and
// ranges, each with an optional /step.
func checkCrontab(fields []string) error {
	if len(fields) != 5 {
		return fmt.Errorf("has %d fields; write a crontab of 5 fields (minute hour day-of-month month day-of-week, e.g. \"0 * * * *\"; Sentry has no seconds field) or an interval such as \"every 1 hour\"", len(fields))
	}
	specs := cronFields()
	for i, f := range fields {
		if err := specs[i].check(f); err != nil {
			return fmt.Errorf("crontab field %d (%s) %q: %w", i+1, specs[i].name, truncate(f, 30), err)
		}
	}
	return nil
}

func (cf cronField) check(field string) error {
	for _, item := range strings.Split(field, ",") {
		rng, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 || n > cf.max+1 {
				return fmt.Errorf("step %q must be a number from 1 to %d", truncate(step, 10), cf.max+1)
			}
		}
		if rng == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err := cf.value(lo)
		if err != nil {
			return err
		}
		if !isRange {
			continue
		}
		b, err := cf.value(hi)
		if err != nil {
			return err
		}
		if b < a {
			return fmt.Errorf("range %s runs backwards", rng)
		}
	}
	return nil
}

func (cf cronField) value(s string) (int, error) {
	for i, n := range cf.names {
		if strings.EqualFold(s, n) {
			return cf.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || s == "" || strings.ContainsAny(s, "+-") {
		return 0, fmt.Errorf("%q is not a value: use numbers from %d to %d, * , - and /", truncate(s, 10), cf.min, cf.max)
	}
	if v < cf.min || v > cf.max {
		return 0, fmt.Errorf("%d is out of range %d-%d", v, cf.min, cf.max)
	}
	return v, nil
}
