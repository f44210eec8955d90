package main

import (
	"bytes"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	// maxMessageRunes is the length of m Dead Man's Snitch takes: "limited
	// to ~250 characters" in its own client.
	maxMessageRunes = 250
	// minOutputRunes is the least room worth giving the output tail; with
	// less, m holds the message and duration only.
	minOutputRunes = 24
	// outputLabel introduces the output tail in m.
	outputLabel = "; output: "
	// lineSep joins the output's lines, m being one line.
	lineSep = " | "
	// ellipsis marks a cut.
	ellipsis = "…"
)

// checkInMessage builds m: the beat's message, the run's duration, then as
// much of the END of the output as fits in maxMessageRunes, which is where
// a failing job says what went wrong. Empty when the beat carries none of
// them.
func checkInMessage(message string, duration time.Duration, log []byte) string {
	head := oneLine(message)
	if duration > 0 {
		d := "duration " + duration.Round(time.Millisecond).String()
		if head == "" {
			head = d
		} else {
			head += "; " + d
		}
	}
	output := outputLine(log)
	if output == "" {
		return cutEnd(head, maxMessageRunes)
	}
	if head == "" {
		return cutStart(output, maxMessageRunes)
	}
	room := maxMessageRunes - utf8.RuneCountInString(head) - utf8.RuneCountInString(outputLabel)
	if room < minOutputRunes {
		return cutEnd(head, maxMessageRunes)
	}
	return head + outputLabel + cutStart(output, room)
}

// outputLine flattens an output tail into one line: lines joined with
// lineSep, blank ones dropped, control characters as spaces.
func outputLine(log []byte) string {
	var lines []string
	for line := range bytes.Lines(log) {
		if l := oneLine(string(line)); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, lineSep)
}

// cutEnd keeps the first n runes of s, ending with an ellipsis when cut.
func cutEnd(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimRightFunc(string(r[:n-1]), unicode.IsSpace) + ellipsis
}

// cutStart keeps the last n runes of s, starting with an ellipsis when
// cut.
func cutStart(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return ellipsis + strings.TrimLeftFunc(string(r[len(r)-(n-1):]), unicode.IsSpace)
}

// oneLine makes s valid UTF-8 on one line: control characters become
// spaces, runs of spaces one.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
