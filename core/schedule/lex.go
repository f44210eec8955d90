package schedule

import (
	"math"
	"math/bits"
	"slices"
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

// unit is a UTF-16 code unit of the lowered input, or a byte standing for
// one (see parser.init): the tokenizer works on either.
type unit interface{ ~uint8 | ~uint16 }

// tokSet is a set of tokens: bit t for token t.
type tokSet uint64

func (t tok) set() tokSet { return 1 << t }

// The tokens later expects at the start of a clause and for a period.
const (
	topSet = 1<<tEvery | 1<<tAfter | 1<<tBefore | 1<<tOnThe | 1<<tOn | 1<<tOf | 1<<tIn |
		1<<tAt | 1<<tAnd | 1<<tExcept | 1<<tAlso
	periodSet = 1<<tSecond | 1<<tMinute | 1<<tHour | 1<<tDayOfYear | 1<<tDayOfWeek |
		1<<tDayInstance | 1<<tDay | 1<<tMonth | 1<<tYear | 1<<tWeekOfMonth | 1<<tWeekOfYear
	// numberToks are the tokens not of words, which start with a digit.
	numberToks = 1<<tRank | 1<<tTime | 1<<tYearIndex
)

// startToks is, for each byte of the parser's input, the set of tokens
// whose match can start with it; no token matches the empty string, and
// none starts with a non-ASCII character.
var startToks = func() (a [256]tokSet) {
	for t, ws := range words {
		for _, w := range ws {
			a[w[0]] |= tok(t).set()
		}
	}
	for c := '0'; c <= '9'; c++ {
		a[c] |= tRank.set() | tTime.set() | tYearIndex.set()
	}
	return a
}()

// names maps the first three letters of the month and day names, packed
// by nameKey, to later's number for them (January = 1, Sunday = 1).
var names = func() (a []nameNum) {
	for _, list := range [...][]string{
		{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"},
		{"sun", "mon", "tue", "wed", "thu", "fri", "sat"},
	} {
		for i, n := range list {
			a = append(a, nameNum{nameKey([]byte(n)), float64(i + 1)})
		}
	}
	return a
}()

type nameNum struct {
	key uint64
	v   float64
}

// nameKey packs the first three code units of text, which has them.
func nameKey[T unit](text []T) uint64 {
	return uint64(text[0]) | uint64(text[1])<<16 | uint64(text[2])<<32
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

// lower is lowerJS(expr)'s units, in buf when expr is ASCII.
func lower(expr string, buf []uint16) []uint16 {
	if units, ok := lowerASCII(expr, buf); ok {
		return units
	}
	units, _ := lowerJS(expr)
	return units
}

// isSpace is JavaScript's regex \s.
func isSpace[T unit](t T) bool {
	switch c := uint16(t); {
	case c < 0x80:
		return asciiSpace[c]
	case c == 0xa0, c == 0x1680, c >= 0x2000 && c <= 0x200a, c == 0x2028, c == 0x2029,
		c == 0x202f, c == 0x205f, c == 0x3000, c == 0xfeff:
		return true
	}
	return false
}

// asciiSpace is isSpace for each byte of the parser's input, where \v
// stands for non-ASCII whitespace (see parser.init).
var asciiSpace = func() (a [256]bool) {
	for _, c := range "\t\n\v\f\r " {
		a[c] = true
	}
	return a
}()

// isWord is the regex \w (ASCII only, as later's patterns have no u flag).
func isWord[T unit](c T) bool {
	return c < 128 && wordChars[c]
}

var wordChars = func() (a [128]bool) {
	for c := range a {
		a[c] = c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	return a
}()

func isDigit[T unit](c T) bool { return c >= '0' && c <= '9' }

// boundary is the regex \b at position q.
func boundary[T unit](in []T, q int) bool {
	a := q > 0 && isWord(in[q-1])
	b := q < len(in) && isWord(in[q])
	return a != b
}

func hasPrefix[T unit](in []T, p int, w string) bool {
	if len(in)-p < len(w) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if in[p+i] != T(w[i]) {
			return false
		}
	}
	return true
}

// matchAt returns the length of token t's match at p, where t can
// start, or -1; key is prefixKey(in, p).
func matchAt[T unit](t tok, in []T, p int, key uint64) int {
	switch t {
	case tRank:
		return matchRank(in, p)
	case tYearIndex:
		return matchYear(in, p)
	case tTime:
		return matchTime(in, p)
	}
	return matchWords(t, in, p, key)
}

// matchYear follows /^\d{4}\b/.
func matchYear[T unit](in []T, p int) int {
	if len(in)-p >= 4 && isDigit(in[p]) && isDigit(in[p+1]) && isDigit(in[p+2]) && isDigit(in[p+3]) && boundary(in, p+4) {
		return 4
	}
	return -1
}

// matchRank follows /^(\d+)(st|nd|rd|th)?\b/.
func matchRank[T unit](in []T, p int) int {
	q := p
	for q < len(in) && isDigit(in[q]) {
		q++
	}
	switch {
	case q == p:
		return -1
	case q+1 < len(in) && isOrdinal(in[q], in[q+1]) && boundary(in, q+2):
		return q + 2 - p
	case q == len(in) || !isWord(in[q]): // \b after the digits, which are word characters
		return q - p
	}
	return -1
}

// isOrdinal reports whether ab is st, nd, rd or th.
func isOrdinal[T unit](a, b T) bool {
	switch {
	case a == 's':
		return b == 't'
	case a == 'n', a == 'r':
		return b == 'd'
	case a == 't':
		return b == 'h'
	}
	return false
}

// matchWords is matchAt for a token of words.
func matchWords[T unit](t tok, in []T, p int, key uint64) int {
	_, n := matchWordsIn(t.set(), in, p, key)
	return n
}

// matchWordsIn returns the longest match at p, where in holds an ASCII
// character, among the tokens of words in set, and its length (-1 when
// none matches); key is prefixKey(in, p). A token matches with the first
// of its words (in later's order) present and followed by a word boundary.
func matchWordsIn[T unit](set tokSet, in []T, p int, key uint64) (tok, int) {
	best, bestLen := tNone, -1
	blocks := wordsFrom[byte(key)]
	for i := range blocks {
		b := &blocks[i]
		if set&b.bit == 0 {
			continue
		}
		for j := range b.words {
			w := &b.words[j]
			if key&w.mask != w.key {
				continue
			}
			n := len(w.s)
			if n > 8 && !hasPrefix(in, p+8, w.s[8:]) {
				continue
			}
			if w.free || boundary(in, p+n) {
				if n > bestLen {
					best, bestLen = b.t, n
				}
				break
			}
		}
	}
	return best, bestLen
}

// wordKey is a word of a token packed for matching: its first eight
// characters, a byte each, and their mask (see prefixKey).
type wordKey struct {
	key, mask uint64
	s         string
	free      bool // needs no word boundary after it ("," and "-")
}

// wordBlock is the words of token t that start with a character.
type wordBlock struct {
	t     tok
	bit   tokSet // t.set()
	words []wordKey
}

// wordsFrom holds, for each ASCII character, the words starting with it
// by token, in later's order: only those can match there.
var wordsFrom = func() (a [128][]wordBlock) {
	for t, ws := range words {
		for _, w := range ws {
			var k, m uint64
			for i := 0; i < len(w) && i < 8; i++ {
				k |= uint64(w[i]) << (8 * i)
				m |= 0xff << (8 * i)
			}
			c := w[0]
			if n := len(a[c]); n == 0 || a[c][n-1].t != tok(t) {
				a[c] = append(a[c], wordBlock{t: tok(t), bit: tok(t).set()})
			}
			b := &a[c][len(a[c])-1]
			b.words = append(b.words, wordKey{k, m, w, w == "," || w == "-"})
		}
	}
	return a
}()

// wordTail is what follows a word's head (its first part, up to a
// space): " of the month" in "day of the month", "" in "day".
type wordTail struct {
	t    tok
	bit  tokSet // t.set()
	rest string
}

// head is the first part of some of the grammar's words, which start
// with a letter: a run of word characters followed by nothing or a space.
// Only an input word equal to a head can start those words.
type head struct {
	key   uint64 // the first eight letters, a byte each
	n     int    // the length, at most maxHead
	ninth byte   // the ninth letter, if any
	tails []wordTail
}

// maxHead is the length of the longest head ("september", "wednesday").
const maxHead = 9

// headSlots is the size of heads, well above the number of heads so that
// a lookup mostly probes one slot.
const headSlots = 1 << 8

// heads is an open-addressing hash table of the heads by headSlot; an
// empty slot has n == 0. Each head's tails are sorted longest first, so
// that the first one present is the longest match, as it is for later:
// a token's words that share a head come in its list longest first.
var heads = func() (a [headSlots]head) {
	for t, ws := range words {
		for _, w := range ws {
			if w[0] < 'a' || w[0] > 'z' {
				continue
			}
			n := 0
			for n < len(w) && w[n] != ' ' {
				n++
			}
			if n > maxHead {
				panic("schedule: word head longer than maxHead: " + w)
			}
			key, ninth := headKey(w[:n])
			i := headSlot(key, n)
			for a[i].n != 0 && !(a[i].key == key && a[i].n == n && a[i].ninth == ninth) {
				i = (i + 1) % headSlots
			}
			h := &a[i]
			h.key, h.n, h.ninth = key, n, ninth
			h.tails = append(h.tails, wordTail{tok(t), tok(t).set(), w[n:]})
		}
	}
	for i := range a {
		slices.SortStableFunc(a[i].tails, func(x, y wordTail) int { return len(y.rest) - len(x.rest) })
	}
	return a
}()

// headKey packs a head for heads.
func headKey(h string) (key uint64, ninth byte) {
	for i := 0; i < len(h) && i < 8; i++ {
		key |= uint64(h[i]) << (8 * i)
	}
	if len(h) > 8 {
		ninth = h[8]
	}
	return key, ninth
}

// headSlot is the slot of heads where the lookup of a head packed as key,
// of length n, starts.
func headSlot(key uint64, n int) int {
	return int((key ^ uint64(n)) * 0x9e3779b97f4a7c15 >> (64 - 8))
}

// matchHead is matchWordsIn where in holds a letter at p: the input word
// there is looked up among the heads. key is prefixKey(in, p).
func matchHead(set tokSet, in []byte, p int, key uint64) (tok, int) {
	n := wordBytes(key)
	var ninth byte
	if n == 8 {
		for p+n < len(in) && isWord(in[p+n]) {
			n++
		}
		if n > maxHead {
			return tNone, -1
		}
		if n > 8 {
			ninth = in[p+8]
		}
	} else {
		key &= lowBytes[n]
	}
	for i := headSlot(key, n); heads[i].n != 0; i = (i + 1) % headSlots {
		h := &heads[i]
		if h.key != key || h.n != n || h.ninth != ninth {
			continue
		}
		for i := range h.tails {
			tl := &h.tails[i]
			if set&tl.bit == 0 {
				continue
			}
			if tl.rest == "" {
				return tl.t, n // the word ends where the input word does
			}
			if e := p + n + len(tl.rest); hasPrefix(in, p+n, tl.rest) && boundary(in, e) {
				return tl.t, e - p
			}
		}
		break
	}
	return tNone, -1
}

// lowBytes[n] masks the n low bytes of a uint64.
var lowBytes = [...]uint64{0, 1<<8 - 1, 1<<16 - 1, 1<<24 - 1, 1<<32 - 1, 1<<40 - 1, 1<<48 - 1, 1<<56 - 1}

// wordBytes counts the word characters (lowered: 0-9, a-z and _) that
// key, eight bytes of the parser's input, starts with. Each byte is
// below 0x80 or exactly 0x80, so adding to a byte never carries into the
// next one.
func wordBytes(key uint64) int {
	const (
		ones = 0x0101010101010101
		high = 0x80 * ones
	)
	// The high bit of a byte from lo to hi is set in key+(0x80-lo) and
	// clear in key+(0x7f-hi).
	word := (key+(0x80-'a')*ones)&^(key+(0x7f-'z')*ones) |
		(key+(0x80-'0')*ones)&^(key+(0x7f-'9')*ones) |
		(key+(0x80-'_')*ones)&^(key+(0x7f-'_')*ones)
	return bits.TrailingZeros64(^word&high) / 8
}

// prefixKey packs up to eight characters from p as wordKey does; bytes
// past the end of the input and for non-ASCII characters match no word.
func prefixKey[T unit](in []T, p int) uint64 {
	var k uint64
	for i := min(len(in)-p, 8) - 1; i >= 0; i-- {
		k = k<<8 | uint64(min(in[p+i], 0x80))
	}
	return k
}

// matchTime follows /^(((0?[1-9]|1[0-2]):[0-5]\d(\s)?(am|pm))|((0?\d|1\d|2[0-3]):[0-5]\d))\b/
// trying the alternatives in the regex engine's order.
func matchTime[T unit](in []T, p int) int {
	if !(len(in)-p > 3 && (in[p+1] == ':' || in[p+2] == ':')) {
		return -1 // the hour has one or two digits
	}
	at := func(i int) T {
		if p+i < len(in) {
			return in[p+i]
		}
		return 0
	}
	minutes := func(i int) bool { return at(i) == ':' && at(i+1) >= '0' && at(i+1) <= '5' && isDigit(at(i+2)) }
	// 12-hour clock with am/pm: the lengths of the hour to try.
	var hours [3]int
	n := 0
	if at(0) == '0' && at(1) >= '1' && at(1) <= '9' {
		hours[n], n = 2, n+1
	}
	if at(0) >= '1' && at(0) <= '9' {
		hours[n], n = 1, n+1
	}
	if at(0) == '1' && at(1) >= '0' && at(1) <= '2' {
		hours[n], n = 2, n+1
	}
	for _, h := range hours[:n] {
		if !minutes(h) {
			continue
		}
		q := h + 3
		// With a space after the minutes, (\s)? first tries to take it.
		for _, o := range [2]int{q + 1, q} {
			if o == q+1 && !(p+q < len(in) && isSpace(in[p+q])) {
				continue
			}
			if (hasPrefix(in, p+o, "am") || hasPrefix(in, p+o, "pm")) && boundary(in, p+o+2) {
				return o + 2
			}
		}
	}
	// 24-hour clock.
	n = 0
	if at(0) == '0' && isDigit(at(1)) {
		hours[n], n = 2, n+1
	}
	if isDigit(at(0)) {
		hours[n], n = 1, n+1
	}
	if at(0) == '1' && isDigit(at(1)) {
		hours[n], n = 2, n+1
	}
	if at(0) == '2' && at(1) >= '0' && at(1) <= '3' {
		hours[n], n = 2, n+1
	}
	for _, h := range hours[:n] {
		if minutes(h) && boundary(in, p+h+3) {
			return h + 3
		}
	}
	return -1
}

// timeValue converts a matched time token to seconds of the day.
func timeValue[T unit](text []T) float64 {
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
func rankValue[T unit](text []T) float64 {
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

func nameValue[T unit](text []T) float64 {
	if len(text) >= 3 {
		k := nameKey(text)
		for _, n := range names {
			if n.key == k {
				return n.v
			}
		}
	}
	return math.NaN()
}
