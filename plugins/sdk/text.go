package sdk

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// OneLine makes s fit for one line of a message or a log: invalid UTF-8
// becomes U+FFFD, control characters (line breaks included) become
// spaces, and the spaces around it are trimmed.
func OneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}

// FitText joins head and tail with a line break (when both are non-empty)
// in at most limit bytes, for a message or a body a service caps. Text
// that does not fit keeps the beginning of head, at most half the room,
// and the end of tail, where a failing job says what went wrong, with
// marker(cut) between them, cut being the number of bytes left out. When
// less than minRoom bytes would remain beside the longest marker, only the
// first limit bytes are kept. A cut never splits a UTF-8 character.
func FitText(head string, tail []byte, limit, minRoom int, marker func(cut int) string) []byte {
	text := make([]byte, 0, len(head)+1+len(tail))
	text = append(text, head...)
	if head != "" && len(tail) > 0 {
		text = append(text, '\n')
	}
	text = append(text, tail...)
	if len(text) <= limit {
		return text
	}
	room := limit - len(marker(len(text))) // the longest marker this text can need
	if room < minRoom {
		return text[:runeStartBefore(text, limit)]
	}
	headLen := runeStartBefore(text, min(len(head), room/2))
	tailStart := runeStartAfter(text, len(text)-(room-headLen))
	out := make([]byte, 0, limit)
	out = append(out, text[:headLen]...)
	out = append(out, marker(tailStart-headLen)...)
	return append(out, text[tailStart:]...)
}

// runeStartBefore moves i back to the start of a UTF-8 character.
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
