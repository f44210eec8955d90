package schedule

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseError reports where a frequency stopped parsing.
type ParseError struct {
	Expr string // the input
	Pos  int    // later.js position (UTF-16 code units, as in the vectors' `error`)
	Msg  string // what was expected, e.g. "expected a time period such as 'minutes'"
	Hint string // e.g. "did you mean 'minutes'?" (may be empty)

	col int // rune column of Pos in Expr, for the caret
}

func newParseError(expr string, origin []int, pos int, msg, hint string) *ParseError {
	col := utf8.RuneCountInString(expr)
	if pos < len(origin) {
		col = origin[pos]
	}
	return &ParseError{Expr: expr, Pos: pos, Msg: msg, Hint: hint, col: col}
}

// Error: the message with `position <N>`, the expression, a caret under
// that position and the hint, one per line. Control, format (bidi
// overrides, zero-width) and line-separator characters are shown escaped,
// so that hostile input can neither garble the terminal nor hide text,
// and the caret counts the columns of what is shown.
func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid frequency at position %d: %s\n  ", e.Pos, e.Msg)
	n := utf8.RuneCountInString(e.Expr)
	col := e.col
	if col == 0 && e.Pos > 0 {
		col = min(e.Pos, n)
	}
	caret := 0
	i := 0
	for s := e.Expr; s != ""; i++ {
		r, size := utf8.DecodeRuneInString(s)
		var shown string
		w := 0
		switch {
		case r == utf8.RuneError && size == 1:
			shown = fmt.Sprintf(`\x%02x`, s[0])
		case needsEscape(r):
			shown = escapeRune(r)
		default:
			shown, w = s[:size], runeWidth(r)
		}
		if w == 0 && shown != s[:size] {
			w = len(shown)
		}
		b.WriteString(shown)
		if i < col {
			caret += w
		}
		s = s[size:]
	}
	if col > i {
		caret += col - i
	}
	fmt.Fprintf(&b, "\n  %s^", strings.Repeat(" ", caret))
	if e.Hint != "" {
		b.WriteString("\n" + e.Hint)
	}
	return b.String()
}

// needsEscape reports characters that must not reach a terminal as is:
// controls (C0, DEL, C1), format characters (bidi embeddings, overrides
// and isolates, zero-width characters, BOM) and line/paragraph separators.
func needsEscape(r rune) bool {
	return r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

func escapeRune(r rune) string {
	switch {
	case r == '\t':
		return `\t`
	case r == '\n':
		return `\n`
	case r == '\r':
		return `\r`
	case r < 0x80:
		return fmt.Sprintf(`\x%02x`, r)
	case r <= 0xffff:
		return fmt.Sprintf(`\u%04x`, r)
	}
	return fmt.Sprintf(`\U%08x`, r)
}

// runeWidth is the number of terminal columns r takes: none for combining
// marks, two for East Asian wide and fullwidth characters and emoji.
func runeWidth(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me):
		return 0
	case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0xa4cf && r != 0x303f, r >= 0xac00 && r <= 0xd7a3,
		r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f, r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, r >= 0x1f900 && r <= 0x1f9ff, r >= 0x20000 && r <= 0x3fffd:
		return 2
	}
	return 1
}
