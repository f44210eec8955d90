package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
)

const maxNextCount = 10000

func cmdNext(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("heartbeat next", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "start after this instant (RFC3339; default now)")
	count := fs.Int("n", 5, "how many times to print")
	raw := fs.Bool("raw", false, "print later.js's next(n, from) instead of the daemon's fire times")
	cron := fs.Bool("cron", false, "the expression is cron, not later.js text")
	tz := fs.String("timezone", "", "evaluate in this IANA time zone (default UTC)")
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
		for _, t := range s.Next(*count, start) {
			fmt.Fprintln(stdout, formatTime(t))
		}
		return exitOK
	}
	t := start
	for i := 0; i < *count; i++ {
		next, ok := s.NextFire(t)
		if !ok {
			break
		}
		fmt.Fprintln(stdout, formatTime(next))
		t = next
	}
	return exitOK
}

// formatTime prints RFC3339 in UTC, with milliseconds only when present.
func formatTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() != 0 {
		return t.Format("2006-01-02T15:04:05.000Z07:00")
	}
	return t.Format(time.RFC3339)
}
