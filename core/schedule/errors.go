package schedule

import (
	"fmt"
	"strings"
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
	col := len([]rune(expr))
	if pos < len(origin) {
		col = origin[pos]
	}
	return &ParseError{Expr: expr, Pos: pos, Msg: msg, Hint: hint, col: col}
}

// Error: the message with `position <N>`, the expression, a caret under
// that position and the hint, one per line.
func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid frequency at position %d: %s\n", e.Pos, e.Msg)
	line := []rune(e.Expr)
	for i, r := range line {
		if r < ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			line[i] = ' ' // keep columns while not breaking the layout
		}
	}
	col := e.col
	if col == 0 && e.Pos > 0 {
		col = min(e.Pos, len(line))
	}
	fmt.Fprintf(&b, "  %s\n  %s^", string(line), strings.Repeat(" ", col))
	if e.Hint != "" {
		b.WriteString("\n" + e.Hint)
	}
	return b.String()
}
