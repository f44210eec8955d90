package main

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxBody caps a report's body. Better Stack documents no limit; a health
// check's output tail (10 KiB) with its message fits, longer output (such
// as what `heartbeat exec` keeps) is cut to its end, and the request stays
// small whatever the server accepts.
const maxBody = 16 << 10

// minCutBody is the smallest limit worth spending on a truncation marker.
const minCutBody = 32

// bodyText is what a report's body holds: the message on the first line,
// the run's duration on the next, then the output tail. Empty when the
// beat carries none of them.
func bodyText(message string, duration time.Duration, log []byte, limit int) []byte {
	var head strings.Builder
	if m := oneLine(message); m != "" {
		head.WriteString(m)
	}
	if duration > 0 {
		if head.Len() > 0 {
			head.WriteByte('\n')
		}
		fmt.Fprintf(&head, "duration: %s", duration.Round(time.Millisecond))
	}
	return fitBody(head.String(), log, limit)
}

// fitBody joins head and log with a line break into at most limit bytes.
// A body that does not fit keeps the beginning of head and the end of the
// log, where a failing job says what went wrong, with a marker in between
// saying how much was cut.
func fitBody(head string, log []byte, limit int) []byte {
	body := make([]byte, 0, len(head)+1+len(log))
	body = append(body, head...)
	if head != "" && len(log) > 0 {
		body = append(body, '\n')
	}
	body = append(body, log...)
	if len(body) <= limit {
		return body
	}
	marker := func(cut int) string {
		return fmt.Sprintf("\n[… %d bytes cut by heartbeat, which sends at most %d bytes …]\n", cut, limit)
	}
	room := limit - len(marker(len(body))) // the longest marker this body can need
	if room < minCutBody {
		return body[:runeStartBefore(body, limit)]
	}
	headLen := runeStartBefore(body, min(len(head), room/2))
	tailStart := runeStartAfter(body, len(body)-(room-headLen))
	out := make([]byte, 0, limit)
	out = append(out, body[:headLen]...)
	out = append(out, marker(tailStart-headLen)...)
	return append(out, body[tailStart:]...)
}

// runeStartBefore moves i back to the start of a UTF-8 character, so a cut
// never splits one.
func runeStartBefore(b []byte, i int) int {
	for i > 0 && i < len(b) && !utf8.RuneStart(b[i]) {
		i--
	}
	return i
}

// runeStartAfter moves i forward to the start of a UTF-8 character.
func runeStartAfter(b []byte, i int) int {
	for i < len(b) && !utf8.RuneStart(b[i]) {
		i++
	}
	return i
}

// oneLine makes s valid UTF-8 on one line: control characters become
// spaces.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}
