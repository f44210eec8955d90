package schedule

import (
	"math"
	"strconv"
	"unicode"
	"unicode/utf16"
)

// tok is a token class of later's text grammar.
type tok uint8

const (
	tNone tok = iota
	tEvery
	tAfter
	tBefore
	tSecond
	tMinute
	tHour
	tDay
	tDayInstance
	tDayOfWeek
	tDayOfYear
	tWeekOfYear
	tWeekOfMonth
	tWeekday
	tWeekend
	tMonth
	tYear
	tBetween
	tStart
	tAt
	tAnd
	tExcept
	tAlso
	tFirst
	tLast
	tIn
	tOf
	tOnThe
	tOn
	tThrough
	tRank
	tTime
	tDayName
	tMonthName
	tYearIndex
)

// words lists, for the fixed-word tokens, the strings later's regular
// expressions accept in the order the regex engine tries them; the first
// one present and followed by a word boundary is the match.
var words = [...][]string{
	tEvery:       {"every"},
	tAfter:       {"after"},
	tBefore:      {"before"},
	tSecond:      {"s", "seconds", "second", "secs", "sec"},
	tMinute:      {"m", "minutes", "minute", "mins", "min"},
	tHour:        {"h", "hours", "hour"},
	tDay:         {"days of the month", "days", "day of the month", "day"},
	tDayInstance: {"day instance"},
	tDayOfWeek:   {"days of the week", "day of the week"},
	tDayOfYear:   {"days of the year", "day of the year"},
	tWeekOfYear:  {"weeks of the year", "weeks", "week of the year", "week"},
	tWeekOfMonth: {"weeks of the month", "week of the month"},
	tWeekday:     {"weekday"},
	tWeekend:     {"weekend"},
	tMonth:       {"months", "month"},
	tYear:        {"years", "year"},
	tBetween:     {"between the", "between "},
	tStart: {"starting at", "starting on the", "starting on", "starting ",
		"start at", "start on the", "start on", "start "},
	tAt:      {"at", "@"},
	tAnd:     {",", "and"},
	tExcept:  {"except"},
	tAlso:    {"also"},
	tFirst:   {"first"},
	tLast:    {"last"},
	tIn:      {"in"},
	tOf:      {"of"},
	tOnThe:   {"on the"},
	tOn:      {"on"},
	tThrough: {"-", "to", "through"},
	tDayName: {"sunday", "sun", "monday", "mon", "tuesday", "tues", "tueday", "tue",
		"wednesday", "wednes", "wedday", "wed", "thursday", "thurs", "thurday", "thur",
		"thuday", "thu", "friday", "fri", "saturday", "satur", "satday", "sat"},
	tMonthName: {"january", "jan", "february", "feb", "march", "mar", "ma", "may",
		"april", "apr", "july", "june", "august", "aug", "october", "oct",
		"september", "sept", "november", "nov", "december", "dec"},
}

// firstChars is, for each token, the set of ASCII characters a match can
// start with (bit c%64 of word c/64); no token matches the empty string.
var firstChars = func() (a [tYearIndex + 1][2]uint64) {
	for t, ws := range words {
		for _, w := range ws {
			a[t][w[0]>>6] |= 1 << (w[0] & 63)
		}
	}
	for _, t := range [...]tok{tRank, tTime, tYearIndex} {
		a[t][0] |= 0x3ff << '0'
	}
	return a
}()

// canStart reports whether token t may match at p, from the first
// character alone; most tokens fail there.
func canStart(t tok, in []uint16, p int) bool {
	if p >= len(in) {
		return false
	}
	c := in[p]
	return c < 128 && firstChars[t][c>>6]>>(c&63)&1 != 0
}

// names maps the first three letters of a day or month name to later's
// number for it (Sunday = 1, January = 1).
var names = map[string]float64{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
	"sep": 9, "oct": 10, "nov": 11, "dec": 12,
	"sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7,
}

// lowerJS lower-cases s as JavaScript's toLowerCase does and returns it as
// UTF-16 code units (later's positions count those), together with, for
// each code unit, the index of the rune of s it came from.
func lowerJS(s string) (units []uint16, origin []int) {
	units = make([]uint16, 0, len(s))
	origin = make([]int, 0, len(s))
	ri := 0
	for _, r := range s {
		var lr []rune
		switch r {
		case 0x130: // İ lower-cases to i + combining dot above in full case mapping
			lr = []rune{'i', 0x307}
		default:
			lr = []rune{unicode.ToLower(r)}
		}
		for _, x := range lr {
			if x >= 0x10000 {
				a, b := utf16.EncodeRune(x)
				units = append(units, uint16(a), uint16(b))
				origin = append(origin, ri, ri)
			} else {
				units = append(units, uint16(x))
				origin = append(origin, ri)
			}
		}
		ri++
	}
	return units, origin
}

// lowerASCII is lowerJS for ASCII input, appending to buf; ok=false when s
// has a non-ASCII byte (and lowerJS must be used). For ASCII each code unit
// comes from the byte at the same index.
func lowerASCII(s string, buf []uint16) ([]uint16, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return nil, false
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		buf = append(buf, uint16(c))
	}
	return buf, true
}

// isSpace is JavaScript's regex \s.
func isSpace(c uint16) bool {
	switch {
	case c >= 9 && c <= 13, c == ' ', c == 0xa0, c == 0x1680, c >= 0x2000 && c <= 0x200a,
		c == 0x2028, c == 0x2029, c == 0x202f, c == 0x205f, c == 0x3000, c == 0xfeff:
		return true
	}
	return false
}

// isWord is the regex \w (ASCII only, as later's patterns have no u flag).
func isWord(c uint16) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isDigit(c uint16) bool { return c >= '0' && c <= '9' }

// boundary is the regex \b at position q.
func boundary(in []uint16, q int) bool {
	a := q > 0 && isWord(in[q-1])
	b := q < len(in) && isWord(in[q])
	return a != b
}

func hasPrefix(in []uint16, p int, w string) bool {
	if len(in)-p < len(w) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if in[p+i] != uint16(w[i]) {
			return false
		}
	}
	return true
}

// match returns the length of token t's match at p, or -1.
func match(t tok, in []uint16, p int) int {
	switch t {
	case tRank:
		q := p
		for q < len(in) && isDigit(in[q]) {
			q++
		}
		if q == p {
			return -1
		}
		for _, suf := range [...]string{"st", "nd", "rd", "th"} {
			if hasPrefix(in, q, suf) && boundary(in, q+2) {
				return q + 2 - p
			}
		}
		if boundary(in, q) {
			return q - p
		}
		return -1
	case tYearIndex:
		if len(in)-p >= 4 && isDigit(in[p]) && isDigit(in[p+1]) && isDigit(in[p+2]) && isDigit(in[p+3]) && boundary(in, p+4) {
			return 4
		}
		return -1
	case tTime:
		return matchTime(in, p)
	}
	if !canStart(t, in, p) {
		return -1
	}
	for _, w := range words[t] {
		if hasPrefix(in, p, w) && (w == "," || w == "-" || boundary(in, p+len(w))) {
			return len(w)
		}
	}
	return -1
}

// matchTime follows /^(((0?[1-9]|1[0-2]):[0-5]\d(\s)?(am|pm))|((0?\d|1\d|2[0-3]):[0-5]\d))\b/
// trying the alternatives in the regex engine's order.
func matchTime(in []uint16, p int) int {
	at := func(i int) uint16 {
		if p+i < len(in) {
			return in[p+i]
		}
		return 0
	}
	minutes := func(i int) bool { return at(i) == ':' && at(i+1) >= '0' && at(i+1) <= '5' && isDigit(at(i+2)) }
	// 12-hour clock with am/pm.
	var hours []int
	if at(0) == '0' && at(1) >= '1' && at(1) <= '9' {
		hours = append(hours, 2)
	}
	if at(0) >= '1' && at(0) <= '9' {
		hours = append(hours, 1)
	}
	if at(0) == '1' && at(1) >= '0' && at(1) <= '2' {
		hours = append(hours, 2)
	}
	for _, h := range hours {
		if !minutes(h) {
			continue
		}
		q := h + 3
		opts := []int{q}
		if p+q < len(in) && isSpace(in[p+q]) {
			opts = []int{q + 1, q}
		}
		for _, o := range opts {
			if (hasPrefix(in, p+o, "am") || hasPrefix(in, p+o, "pm")) && boundary(in, p+o+2) {
				return o + 2
			}
		}
	}
	// 24-hour clock.
	hours = hours[:0]
	if at(0) == '0' && isDigit(at(1)) {
		hours = append(hours, 2)
	}
	if isDigit(at(0)) {
		hours = append(hours, 1)
	}
	if at(0) == '1' && isDigit(at(1)) {
		hours = append(hours, 2)
	}
	if at(0) == '2' && at(1) >= '0' && at(1) <= '3' {
		hours = append(hours, 2)
	}
	for _, h := range hours {
		if minutes(h) && boundary(in, p+h+3) {
			return h + 3
		}
	}
	return -1
}

// timeValue converts a matched time token to seconds of the day.
func timeValue(text []uint16) float64 {
	i := 0
	h := 0.0
	for ; text[i] != ':'; i++ {
		h = h*10 + float64(text[i]-'0')
	}
	m := float64(text[i+1]-'0')*10 + float64(text[i+2]-'0')
	if n := len(text); n >= 2 {
		switch {
		case text[n-2] == 'p' && h < 12:
			h += 12
		case text[n-2] == 'a' && h == 12:
			h = 0
		}
	}
	return h*3600 + m*60
}

// rankValue is parseInt of the token's leading digits (float64, like JS).
func rankValue(text []uint16) float64 {
	// Up to 15 digits the integer, and so its float64, is exact.
	n, v := 0, int64(0)
	for n < len(text) && isDigit(text[n]) {
		v = v*10 + int64(text[n]-'0')
		n++
	}
	if n <= 15 {
		return float64(v)
	}
	b := make([]byte, 0, len(text))
	for _, c := range text {
		if !isDigit(c) {
			break
		}
		b = append(b, byte(c))
	}
	f, _ := strconv.ParseFloat(string(b), 64)
	return f
}

func nameValue(text []uint16) float64 {
	if len(text) < 3 {
		return math.NaN()
	}
	v, ok := names[string([]byte{byte(text[0]), byte(text[1]), byte(text[2])})]
	if !ok {
		return math.NaN()
	}
	return v
}
