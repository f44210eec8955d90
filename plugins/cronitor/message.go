package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// maxMessage is the message size sent. Cronitor's CLI cuts messages to
// 1000 bytes before sending; its help text speaks of 2000 characters, which
// nothing from Cronitor itself confirms, so the smaller figure is used.
const maxMessage = 1000

// minCut is the smallest limit worth spending on a truncation marker.
const minCut = 64

// fitMessage builds the message parameter: the beat's message, then its
// output tail, in at most limit bytes of valid UTF-8. When they do not fit
// it keeps the beginning of the message and the end of the output, where
// errors usually are, with a marker in between saying how much was cut.
func fitMessage(message string, log []byte, limit int) string {
	head := strings.TrimSpace(sanitize(message, false))
	tail := strings.TrimRight(sanitize(string(log), true), "\n")
	return string(sdk.FitText(head, []byte(tail), limit, minCut, func(cut int) string {
		return fmt.Sprintf("\n[… %d bytes cut by heartbeat …]\n", cut)
	}))
}

// sanitize makes s valid UTF-8 without control characters other than
// newlines and tabs (when multiline), so that Cronitor shows it as text.
func sanitize(s string, multiline bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if multiline {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	return strings.Map(func(r rune) rune {
		switch {
		case multiline && (r == '\n' || r == '\t'):
			return r
		case unicode.IsControl(r):
			return ' '
		}
		return r
	}, s)
}

// cutBytes returns the longest prefix of s of at most n bytes that does
// not split a character.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
