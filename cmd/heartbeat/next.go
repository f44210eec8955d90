package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
)

const maxNextCount = 10000

func cmdNext(args []string, stdout, stderr io.Writer) int {
	fs, o := nextFlags(stderr)
	from, count, raw, cron, tz := o.from, o.count, o.raw, o.cron, o.tz
	positional, err := parseFlags(fs, args)
	if err != nil {
		return exitInvalid
	}
	if len(positional) != 1 {
		fmt.Fprintln(stderr, "usage: heartbeat next [--from RFC3339] [-n COUNT] [--raw] [--cron] 'FREQUENCY'")
		return exitInvalid
	}
	if *count < 1 || *count > maxNextCount {
		fmt.Fprintf(stderr, "error: -n must be from 1 to %d\n", maxNextCount)
		return exitInvalid
	}
	start := time.Now()
	if *from != "" {
		start, err = time.Parse(time.RFC3339Nano, *from)
		if err != nil {
			fmt.Fprintf(stderr, "error: --from %q is not an RFC3339 time such as 2026-01-02T15:04:05Z\n", *from)
			return exitInvalid
		}
	}
	parse := schedule.Parse
	if *cron {
		parse = schedule.ParseCron
	}
	s, err := parse(positional[0])
	// A frequency that never fires from now may still be looked at: raw,
	// or from another instant.
	var never *schedule.NeverFiresError
	if errors.As(err, &never) && (*raw || *from != "") {
		s, err = never.Schedule, nil
	}
	if err != nil {
		fmt.Fprintf(stderr, "error: %v\n", err)
		return exitInvalid
	}
	if *tz != "" {
		loc, err := time.LoadLocation(*tz)
		if err != nil {
			fmt.Fprintf(stderr, "error: unknown time zone %q: use an IANA name such as Europe/Stockholm\n", *tz)
			return exitInvalid
		}
		s = s.In(loc)
	}
	if *raw {
		// The debugging view: later's own answer, even past 2099.
		for _, t := range s.Next(*count, start) {
			fmt.Fprintln(stdout, formatTime(t))
		}
		if _, ok, _ := s.NextBeat(start, start); !ok {
			fmt.Fprintf(stderr, "note: the daemon would never fire this frequency after %s (no fire before 2100)\n", formatTime(start))
		}
		return exitOK
	}
	// The daemon's fire times, each computed from the one before, as if
	// every timer fired on time.
	t := start
	run, held := 0, false
	for i := 0; i < *count; i++ {
		next, ok, h := s.NextBeat(t, t)
		if !ok {
			if i == 0 {
				fmt.Fprintf(stderr, "error: frequency %q never fires after %s (no fire before 2100)\n", positional[0], formatTime(start))
				return exitInvalid
			}
			fmt.Fprintf(stderr, "note: no further fire before 2100\n")
			break
		}
		if h {
			run++
		} else {
			run = 0
		}
		held = held || run >= schedule.HeldRun
		fmt.Fprintln(stdout, formatTime(next))
		t = next
	}
	if held {
		fmt.Fprintf(stderr, "note: later.js fires this frequency less than a second after each fire; the daemon waits %s between beats, as shown\n", schedule.MinInterval)
	}
	return exitOK
}

// nextOptions are the flags of next.
type nextOptions struct {
	from, tz  *string
	count     *int
	raw, cron *bool
}

// nextFlags defines next's flags; help, completion and the man page are
// generated from it too.
func nextFlags(stderr io.Writer) (*flag.FlagSet, nextOptions) {
	fs := newBareFlagSet("next", stderr)
	return fs, nextOptions{
		from:  fs.String("from", "", "start after this `TIME` (RFC3339; default now)"),
		count: fs.Int("n", 5, "how many fire times to print (`COUNT`)"),
		raw:   fs.Bool("raw", false, "print later.js's next(n, from) instead of the daemon's fire times"),
		cron:  fs.Bool("cron", false, "the expression is cron, not later.js text"),
		tz:    fs.String("timezone", "", "evaluate in this IANA time `ZONE` (default UTC)"),
	}
}

// formatTime prints RFC3339 in UTC, with milliseconds only when present.
func formatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() != 0 {
		return t.Format("2006-01-02T15:04:05.000Z07:00")
	}
	return t.Format(time.RFC3339)
}
