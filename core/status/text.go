package status

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ellipsis ends a string that was cut.
const ellipsis = "…"

// OneLine returns s as one line of at most max bytes: line breaks, tabs
// and other control characters become spaces, runs of spaces one space,
// invalid UTF-8 is replaced, and a longer string is cut at a rune boundary
// with an ellipsis. Every string from outside (plugins, checks, the
// config) goes through it before it is kept.
func OneLine(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if len(s) <= max && isOneLine(s) {
		// The usual case, a target name or "200 OK": kept as it is, not
		// copied, since every beat records a few of them.
		return s
	}
	return oneLine(s, max)
}

// oneLine is OneLine without the shortcut for strings already one line.
func oneLine(s string, max int) string {
	var b strings.Builder
	b.Grow(min(len(s), max))
	space := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size <= 1 {
			r = unicode.ReplacementChar
		}
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			space = b.Len() > 0
			continue
		}
		piece := string(r)
		if space {
			piece = " " + piece
			space = false
		}
		if b.Len()+len(piece) > max {
			return cut(b.String(), max)
		}
		b.WriteString(piece)
	}
	return b.String()
}

// isOneLine reports that OneLine would return s unchanged: printable
// ASCII, no space at either end, no two spaces in a row.
func isOneLine(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c > '~' || c == ' ' && s[i+1] == ' ' {
			return false
		}
	}
	return true
}

// cut shortens s so that s plus the ellipsis fits in max bytes.
func cut(s string, max int) string {
	keep := max - len(ellipsis)
	if keep <= 0 {
		return ""
	}
	if len(s) > keep {
		s = s[:keep]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return strings.TrimRight(s, " ") + ellipsis
}

// Span writes d (or -d) as "4m 10s": its two largest units, for people
// reading the status in a terminal or a browser.
func Span(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm %ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh %dm", s/3600, s%3600/60)
	default:
		return fmt.Sprintf("%dd %dh", s/86400, s%86400/3600)
	}
}
