package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
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
	text := head
	if head != "" && tail != "" {
		text += "\n"
	}
	text += tail
	if len(text) <= limit {
		return text
	}
	marker := func(cut int) string { return fmt.Sprintf("\n[… %d bytes cut by heartbeat …]\n", cut) }
	room := limit - len(marker(len(text)))
	if room < minCut {
		return cutBytes(text, limit)
	}
	headLen := len(cutBytes(text, min(len(head), room/2)))
	tailStart := runeStartAfter(text, len(text)-(room-headLen))
	return text[:headLen] + marker(tailStart-headLen) + text[tailStart:]
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

// runeStartAfter moves i forward to the start of a character.
func runeStartAfter(s string, i int) int {
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return i
}
