package schedule

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// key names one entry of a later schedule definition: a period and an
// optional "after"/"before" modifier ('a' / 'b').
type key struct {
	k   kind
	mod byte
}

// Limits that keep parsing bounded where later.js would build enormous
// lists or loop forever.
const (
	maxSafeInt   = 1 << 53
	maxRangeLen  = 100000
	maxTotalVals = 1000000
)

// everyUse records an `every N <period>` for warnings.
type everyUse struct {
	k kind
	n float64
}

// list is one entry of a definition being built. Definitions are numbered
// as they are made, the schedules first and then the exceptions, as
// everything after 'except' is one.
type list struct {
	def  int
	k    key
	inc  bool                 // the values are strictly increasing
	vals span                 // in later's insertion order
	seen map[float64]struct{} // built only for long, unordered lists
}

// listHead is how many lists a builder keeps in place; a typical
// frequency has fewer.
const listHead = 4

// builder reproduces later.parse.recur's state machine. It holds no
// pointer into itself (lists and values are found by index), so that it
// can stay on the stack: escape analysis moves to the heap whatever is
// stored through a pointer.
type builder struct {
	pool      pool
	lists     [listHead]list
	moreLists []list
	nLists    int
	nDefs     int
	nScheds   int  // definitions before 'except'
	filled    int  // definitions with an entry, unless stray
	cur       int  // the current definition, or -1
	curFirst  int  // no list of cur comes before this one
	stray     bool // a definition was left without entries for good
	inExcept  bool
	values    span
	every     float64
	modifier  byte
	applyMin  bool
	applyMax  bool
	last      struct {
		k    key
		x    float64
		c    int
		m    float64
		set  bool
		into int
	}
	warn   bool       // record everys, for textWarnings
	everys []everyUse // each `every N <period>`
	// zeroStep: the current `every` was written with a step of 0, which
	// later reads as 1; recorded for a warning.
	zeroStep bool
	total    int
	thrown   bool // later itself would have thrown
	big      bool // a list grew past our limits
}

// listAt returns list i; the pointer is valid until the next list is made.
func (b *builder) listAt(i int) *list {
	if i < listHead {
		return &b.lists[i]
	}
	return &b.moreLists[i-listHead]
}

func (b *builder) newList(l list) int {
	if b.nLists < listHead {
		b.lists[b.nLists] = l
	} else {
		b.moreLists = append(b.moreLists, l)
	}
	b.nLists++
	return b.nLists - 1
}

// listOf returns the list of the current definition for k, made if need be.
func (b *builder) listOf(k key) int {
	for i := b.curFirst; i < b.nLists; i++ {
		if l := b.listAt(i); l.def == b.cur && l.k == k {
			return i
		}
	}
	if b.nLists == b.curFirst {
		b.filled++ // the first entry of cur
	}
	return b.newList(list{def: b.cur, k: k, inc: true})
}

// defEnd returns where the lists of the definition whose lists start at
// i end. Once parsing succeeded, each definition's lists are together
// and in order.
func (b *builder) defEnd(i int) int {
	d := b.listAt(i).def
	for i++; i < b.nLists && b.listAt(i).def == d; i++ {
	}
	return i
}

// complete reports whether every definition has an entry.
func (b *builder) complete() bool {
	return !b.stray && b.filled == b.nDefs
}

// has reports whether l already holds v. Values mostly arrive in
// increasing order, which needs no lookup; a set is built only for long
// lists that do not.
func (b *builder) has(l *list, v float64) bool {
	vals := b.pool.vals(l.vals)
	n := len(vals)
	if n == 0 || l.inc && vals[n-1] < v {
		return false
	}
	if l.seen == nil {
		if n <= 32 {
			for _, x := range vals {
				if x == v {
					return true
				}
			}
			return false
		}
		m := make(map[float64]struct{}, n)
		for _, x := range vals {
			m[x] = struct{}{}
		}
		l.seen = m
	}
	_, ok := l.seen[v]
	return ok
}

// push appends v to l, which must not hold it yet.
func (b *builder) push(l *list, v float64) {
	n := l.vals.n
	l.inc = n == 0 || l.inc && b.pool.vals(l.vals)[n-1] < v
	l.vals = b.pool.push(l.vals, v)
	if l.seen != nil {
		l.seen[v] = struct{}{}
	}
}

// newDef makes a definition in the current group.
func (b *builder) newDef() int {
	if !b.inExcept {
		b.nScheds++
	}
	b.nDefs++
	return b.nDefs - 1
}

func (b *builder) also() {
	b.cur = b.newDef()
	b.curFirst = b.nLists
}

func (b *builder) except() {
	b.inExcept = true
	b.cur = -1
}

// ap returns min, min+step, ... <= max, refusing lists that would not end
// or would be unreasonably long.
func (b *builder) ap(min, max, step float64) span {
	if !(min <= max) {
		return span{}
	}
	q := (max - min) / step
	if min+step == min || q >= maxRangeLen || b.total > maxTotalVals {
		b.big = true
		return span{}
	}
	n := int(q) + 1
	if s, ok := sharedSeq(min, step, n); ok {
		return s // exact: all the values are small integers
	}
	s, ok := b.pool.seq(min, max, step, n)
	b.big = b.big || !ok
	return s
}

func (b *builder) add(k kind, min, max float64) {
	b.addKey(key{k, b.modifier}, min, max)
}

func (b *builder) addKey(name key, min, max float64) {
	if b.cur < 0 {
		d := b.newDef()
		// later continues with the group's first definition.
		b.cur, b.curFirst = 0, b.nLists
		if b.inExcept {
			b.cur = b.nScheds
		}
		if b.cur != d {
			b.stray, b.curFirst = true, 0
		}
	}
	l := b.listAt(b.listOf(name))
	if b.every != 0 && !isNaN(b.every) {
		if b.warn {
			n := b.every
			if b.zeroStep {
				n = 0
			}
			b.everys = append(b.everys, everyUse{name.k, n})
		}
		b.values = b.ap(min, max, b.every)
		b.last.k, b.last.x, b.last.c, b.last.m, b.last.set, b.last.into = name, b.every, l.vals.n, max, true, b.cur
	}
	switch {
	case b.applyMin:
		b.values = b.pool.of(min)
	case b.applyMax:
		b.values = b.pool.of(max)
	}
	if l.vals.n == 0 && b.values.n > 0 && (b.values.shared || strictlyIncreasing(b.pool.vals(b.values))) {
		// A fresh list, as the values always are here: adopt it.
		l.vals = b.values
		b.total += b.values.n
		b.values = span{}
	}
	for i := 0; i < b.values.n; i++ {
		v := b.pool.vals(b.values)[i] // pushing may move the pool's tail
		if isNaN(v) || b.has(l, v) {
			continue
		}
		b.push(l, v)
		b.total++
	}
	b.values, b.every, b.modifier, b.applyMin, b.applyMax, b.zeroStep = span{}, 0, 0, false, false, false
}

// strictlyIncreasing reports whether vals is strictly increasing (which
// also rules out NaN).
func strictlyIncreasing(vals []float64) bool {
	for i := 1; i < len(vals); i++ {
		if !(vals[i-1] < vals[i]) {
			return false
		}
	}
	return len(vals) == 0 || !isNaN(vals[0])
}

func (b *builder) between(start, end float64) {
	if !b.last.set || b.cur < 0 || b.cur != b.last.into {
		b.thrown = true
		return
	}
	l := b.listAt(b.listOf(b.last.k))
	if c := b.last.c; c < l.vals.n {
		if l.seen != nil {
			for _, v := range b.pool.vals(l.vals)[c:] {
				delete(l.seen, v)
			}
		}
		l.vals.n = c
	}
	b.every = b.last.x
	b.modifier = 0
	b.addKey(b.last.k, start, end)
}

// parser reproduces later.parse.text: its tokenizer (longest match among
// the expected tokens, JS whitespace skipped first) and its recursive
// descent, including where it keeps going after an error.
type parser struct {
	// The input lowered (see init): in ascii when it is short, else in
	// long. Keeping no pointer to ascii keeps the parser on the stack.
	ascii [shortInput + 8]byte
	n     int
	long  []byte
	pos   int
	err   int
	want  tokSet // what was expected where the last error was recorded
	big   int    // position of the first over-long list, or -1
	b     builder
}

// shortInput is the longest input a parser holds in place.
const shortInput = 64

// init readies a zero parser for expr; warn makes it record what
// textWarnings needs.
//
// The tokenizer works on the input lowered as lowerJS does, one byte per
// UTF-16 code unit: a non-ASCII unit becomes \v when it is JS whitespace
// and 0x80 otherwise, as the tokens only tell apart ASCII characters,
// whitespace and the rest. Eight zero bytes follow the input, so that peek
// reads a word's prefixKey in one load.
func (p *parser) init(expr string, warn bool) {
	p.err, p.big, p.b.cur, p.b.warn = -1, -1, -1, warn
	if len(expr) <= shortInput && p.lowerASCII(expr) {
		return
	}
	units := lower(expr, nil)
	p.long = make([]byte, len(units), len(units)+8)
	for i, u := range units {
		switch {
		case u < 0x80:
			p.long[i] = byte(u)
		case isSpace(u):
			p.long[i] = '\v'
		default:
			p.long[i] = 0x80
		}
	}
}

// lowerASCII lowers expr into ascii eight bytes at a time; ok=false when
// expr, of at most shortInput bytes, is not ASCII.
func (p *parser) lowerASCII(expr string) bool {
	const high = 0x8080808080808080
	n := copy(p.ascii[:], expr)
	for i := 0; i < n; i += 8 {
		x := binary.LittleEndian.Uint64(p.ascii[i:])
		if x&high != 0 {
			return false
		}
		// Bytes from 'A' reach the high bit when 0x3f is added, bytes
		// past 'Z' when 0x25 is: those between get 0x20.
		upper := (x + 0x3f3f3f3f3f3f3f3f) &^ (x + 0x2525252525252525) & high
		binary.LittleEndian.PutUint64(p.ascii[i:], x|upper>>2)
	}
	p.n = n
	return true
}

func (p *parser) input() []byte {
	if p.long != nil {
		return p.long
	}
	return p.ascii[:p.n]
}

// peek finds the longest match among the expected tokens after any
// whitespace. later tries the tokens first and skips whitespace only when
// it is longer than their best match, but no token can start with
// whitespace, so skipping it first is the same. No two tokens of a set
// match the same text, so the order they are tried in does not matter.
func (p *parser) peek(set tokSet) (tok, int, int) {
	in := p.input()
	start := p.pos
	for start < len(in) && asciiSpace[in[start]] {
		start++
	}
	if start >= len(in) || set&startToks[in[start]] == 0 {
		return tNone, start, start
	}
	var t tok
	var n int
	switch c := in[start]; {
	case c >= 'a' && c <= 'z':
		key := binary.LittleEndian.Uint64(in[start : start+8]) // prefixKey(in, start)
		t, n = matchHead(set, in, start, key)
	case c >= '0' && c <= '9':
		t, n = matchNumber(set, in, start)
	default:
		t, n = matchWordsIn(set, in, start, binary.LittleEndian.Uint64(in[start:start+8]))
	}
	if t == tNone {
		return tNone, start, start
	}
	return t, start, start + n
}

// matchNumber returns the longest match at p, where in holds a digit,
// among the tokens in set that start with one, and its length (-1 when
// none matches).
func matchNumber(set tokSet, in []byte, p int) (tok, int) {
	want := set & numberToks
	if want == tRank.set() {
		if n := matchRank(in, p); n >= 0 {
			return tRank, n
		}
		return tNone, -1
	}
	best, bestLen := tNone, -1
	for ; want != 0; want &= want - 1 {
		t := tok(bits.TrailingZeros64(uint64(want)))
		if l := matchAt(t, in, p, 0); l > bestLen {
			best, bestLen = t, l
		}
	}
	return best, bestLen
}

// parseToken scans one of the expected tokens, recording an error at the
// (whitespace-skipped) position when none matches.
func (p *parser) parseToken(set tokSet) (tok, []byte) {
	t, s, e := p.peek(set)
	return p.take(set, t, s, e)
}

// take is parseToken for the result of peek(set).
func (p *parser) take(set tokSet, t tok, s, e int) (tok, []byte) {
	p.pos = e
	if t == tNone {
		// Keep the first expectation at a position: it names what is
		// really missing ("every five" lacks a number, not a period).
		if p.err != p.pos || p.want == 0 {
			p.want = set
		}
		p.err = p.pos
		return tNone, nil
	}
	return t, p.input()[s:e]
}

func (p *parser) check(t tok) bool {
	if x, _, e := p.peek(t.set()); x == t {
		p.pos = e
		return true
	}
	return false
}

// value converts a token as later's convertString does (NaN on failure).
func (p *parser) value(t tok) float64 {
	return convert(p.parseToken(t.set()))
}

func convert(t tok, text []byte) float64 {
	switch t {
	case tTime:
		return timeValue(text)
	case tRank, tYearIndex:
		return rankValue(text)
	case tDayName, tMonthName:
		return nameValue(text)
	}
	return math.NaN()
}

func (p *parser) tooBig(at int) {
	if p.big < 0 {
		p.big = at
	}
}

func (p *parser) throughExpr(t tok) span {
	at := p.pos
	start := p.value(t)
	end := start
	if p.check(tThrough) {
		end = p.value(t)
	}
	if start >= maxSafeInt || end >= maxSafeInt || (start <= end && end-start >= maxRangeLen) {
		p.tooBig(at)
		return span{}
	}
	n := 0
	if start <= end {
		n = int(end-start) + 1
	}
	if s, ok := sharedSeq(start, 1, n); ok {
		return s
	}
	s, _ := p.b.pool.seq(start, end, 1, n) // it ends: start and end are below 2^53
	return s
}

func (p *parser) ranges(t tok) span {
	nums := p.throughExpr(t)
	for p.check(tAnd) {
		nums = p.b.pool.cat(nums, p.throughExpr(t))
	}
	return nums
}

func (p *parser) timePeriod() tok {
	t, _ := p.parseToken(periodSet)
	b := &p.b
	last := func(n float64) float64 {
		if b.applyMax {
			return 0
		}
		return n
	}
	switch t {
	case tSecond:
		b.add(kSec, 0, 59)
	case tMinute:
		b.add(kMin, 0, 59)
	case tHour:
		b.add(kHour, 0, 23)
	case tDayOfYear:
		b.add(kDoy, 1, last(366))
	case tDayOfWeek:
		b.add(kDow, 1, 7)
	case tDayInstance:
		b.add(kDc, 1, last(5))
	case tDay:
		b.add(kDay, 1, last(31))
	case tWeekOfMonth:
		b.add(kWom, 1, last(5))
	case tWeekOfYear:
		b.add(kWoy, 1, last(53))
	case tMonth:
		b.add(kMonth, 1, 12)
	case tYear:
		b.add(kYear, 1970, 2450)
	}
	return t
}

func (p *parser) every() {
	b := &p.b
	// The tokens tried in turn here start differently, so one peek does.
	switch t, s, e := p.peek(tWeekend.set() | tWeekday.set() | tRank.set()); t {
	case tWeekend:
		p.pos = e
		b.values = b.pool.of(1, 7)
		b.add(kDow, 1, 7)
	case tWeekday:
		p.pos = e
		b.values = b.pool.of(2, 3, 4, 5, 6)
		b.add(kDow, 1, 7)
	default:
		b.every = 1
		if t, text := p.take(tRank.set(), t, s, e); t == tRank {
			v := rankValue(text)
			b.every = or(v, 1)
			b.zeroStep = b.warn && v == 0
		}
		period := p.timePeriod()
		switch t, _, e := p.peek(tStart.set() | tBetween.set()); t {
		case tStart:
			p.pos = e
			n := p.value(tRank)
			if b.last.set {
				b.between(n, b.last.m)
			} else {
				b.thrown = true
			}
			if period == tNone {
				b.thrown = true // later calls parseToken(undefined) and throws
			} else {
				p.parseToken(period.set())
			}
		case tBetween:
			p.pos = e
			at := p.pos
			start := p.value(tRank)
			if p.check(tAnd) {
				end := p.value(tRank)
				b.between(start, end)
				if b.big {
					p.tooBig(at)
				}
			}
		}
	}
}

func (p *parser) onThe() {
	b := &p.b
	switch {
	case p.check(tFirst):
		b.applyMin = true
	case p.check(tLast):
		b.applyMax = true
	default:
		b.values = p.ranges(tRank)
	}
	p.timePeriod()
}

func (p *parser) run() {
	b := &p.b
	for p.pos < len(p.input()) && p.err < 0 {
		t, _ := p.parseToken(topSet)
		switch t {
		case tEvery:
			p.every()
		case tAfter, tBefore:
			mod := byte('a')
			if t == tBefore {
				mod = 'b'
			}
			if x, s, e := p.peek(tTime.set()); x != tNone {
				v := convert(p.take(tTime.set(), x, s, e))
				b.modifier, b.values = mod, b.pool.of(v)
				b.add(kTime, 0, 0)
			} else {
				v := p.value(tRank)
				b.modifier, b.values = mod, b.pool.of(v)
				p.timePeriod()
			}
		case tOnThe:
			p.onThe()
		case tOn:
			b.values = p.ranges(tDayName)
			b.add(kDow, 1, 7)
		case tOf:
			b.values = p.ranges(tMonthName)
			b.add(kMonth, 1, 12)
		case tIn:
			b.values = p.ranges(tYearIndex)
			b.add(kYear, 1970, 2450)
		case tAt:
			b.values = b.pool.of(p.value(tTime))
			b.add(kTime, 0, 0)
			for p.check(tAnd) {
				b.values = b.pool.of(p.value(tTime))
				b.add(kTime, 0, 0)
			}
		case tAlso:
			b.also()
		case tExcept:
			b.except()
		case tAnd:
		default:
			p.err = p.pos
		}
		if b.big {
			p.tooBig(p.pos)
		}
	}
}

// failure returns the error of a finished parse of expr, if any.
func (p *parser) failure(expr string) error {
	if p.big >= 0 || p.err >= 0 {
		units, origin := lowerJS(expr)
		if p.big >= 0 {
			return newParseError(expr, origin, p.big, "number or range too large", "")
		}
		msg, hint := describe(units, p.err, p.want)
		return newParseError(expr, origin, p.err, msg, hint)
	}
	if p.b.thrown {
		return fmt.Errorf("frequency %q cannot be evaluated: 'starting on'/'between' must follow 'every N <period>'", expr)
	}
	if !p.b.complete() {
		return fmt.Errorf("frequency %q is incomplete: an 'also' or 'except' part is empty (or 'except' is used twice)", expr)
	}
	return nil
}

// span is a list of values: in a pool, or a stretch of shared.
type span struct {
	off, n int
	shared bool
}

// poolHead is how many values a pool keeps in place; a typical frequency
// needs fewer.
const poolHead = 16

// pool holds the values of the lists being built: the first poolHead in
// place, the others in a slice grown on demand. Lists refer to their
// values by offset (spans), never by slice, so that a pool on the stack
// stays there. A span lies wholly in one part. Progressions found in
// shared are not copied until they change.
type pool struct {
	head [poolHead]float64
	tail []float64 // values from offset poolHead on
	top  int       // the offset after the last value
}

// alloc reserves n values at the top of the pool.
func (p *pool) alloc(n int) span {
	if p.top < poolHead && p.top+n > poolHead {
		p.top = poolHead
	}
	s := span{off: p.top, n: n}
	p.top += n
	if s.off >= poolHead {
		p.tail = append(p.tail, make([]float64, n)...)
	}
	return s
}

// vals returns the values of s, in place until the pool next grows.
// Those of a shared span must not be written to.
func (p *pool) vals(s span) []float64 {
	switch {
	case s.shared:
		return s.sharedVals()
	case s.off < poolHead:
		return p.head[s.off : s.off+s.n]
	}
	return p.tail[s.off-poolHead : s.off-poolHead+s.n]
}

// push appends v to s: in place when s ends at the top of the pool,
// otherwise s moves to the top.
func (p *pool) push(s span, v float64) span {
	if end := s.off + s.n; !s.shared && end == p.top {
		switch {
		case s.off >= poolHead:
			p.tail = append(p.tail, v)
			p.top++
			return span{off: s.off, n: s.n + 1}
		case end < poolHead:
			p.head[end] = v
			p.top++
			return span{off: s.off, n: s.n + 1}
		}
	}
	t := p.alloc(s.n + 1)
	copy(p.vals(t), p.vals(s))
	p.vals(t)[s.n] = v
	return t
}

// of returns vals, shared when they are a progression there.
func (p *pool) of(vals ...float64) span {
	if len(vals) > 0 {
		step := 1.0
		if len(vals) > 1 {
			step = vals[1] - vals[0]
		}
		if s, ok := sharedSeq(vals[0], step, len(vals)); ok && slices.Equal(p.vals(s), vals) {
			return s
		}
	}
	s := p.alloc(len(vals))
	copy(p.vals(s), vals)
	return s
}

// seq returns min, min+step, ... <= max, as JavaScript adds them up: n
// values, unless rounding makes it a few more or less; ok=false when the
// list would not end. Callers try sharedSeq first.
func (p *pool) seq(min, max, step float64, n int) (s span, ok bool) {
	s = p.alloc(n)
	v := p.vals(s)
	k := 0
	for x := min; x <= max; x += step {
		if k < n {
			v[k] = x
			k++
			continue
		}
		if x+step == x {
			return span{}, false // past 2^53: it would never end
		}
		s = p.push(s, x)
	}
	if k < n {
		s.n = k
	}
	return s, true
}

// cat returns the values of a followed by those of b.
func (p *pool) cat(a, b span) span {
	switch {
	case a.n == 0:
		return b
	case b.n == 0:
		return a
	case a.off+a.n == b.off && a.shared == b.shared && (a.shared || (a.off < poolHead) == (b.off < poolHead)):
		return span{a.off, a.n + b.n, a.shared}
	}
	for i := 0; i < b.n; i++ {
		a = p.push(a, p.vals(b)[i])
	}
	return a
}

// maxStep bounds the steps of the shared progressions.
const maxStep = 30

// shared holds the value lists most frequencies compile to, which
// schedules share rather than copy (nothing writes to a constraint's
// values): 0, 1, ..., 366 from offset 0 and, for each step s from 2 to
// maxStep, r, r+s, r+2s, ... up to 60 from steppedAt[s][r], for r of 0
// and 1.
var shared, steppedAt = func() (vals []float64, at [maxStep + 1][2]int) {
	for v := 0; v <= 366; v++ {
		vals = append(vals, float64(v))
	}
	for s := 2; s <= maxStep; s++ {
		for r := range 2 {
			at[s][r] = len(vals)
			for v := r; v <= 60; v += s {
				vals = append(vals, float64(v))
			}
		}
	}
	return vals, at
}()

// sharedBits is, for each value of shared, the bits (bit v for a value v
// below 64) of the values of its progression up to it; sharedStart is
// where that progression starts.
var sharedBits, sharedStart = func() (bits []uint64, start []int) {
	bits, start = make([]uint64, len(shared)), make([]int, len(shared))
	first := map[int]bool{0: true}
	for s := 2; s <= maxStep; s++ {
		first[steppedAt[s][0]], first[steppedAt[s][1]] = true, true
	}
	var acc uint64
	from := 0
	for i, v := range shared {
		if first[i] {
			acc, from = 0, i
		}
		if v < 64 {
			acc |= 1 << uint(v)
		}
		bits[i], start[i] = acc, from
	}
	return bits, start
}()

// sharedMask returns the bits of the values below 64 of a shared span;
// ok=false when the span is not within one progression.
func (s span) sharedMask() (mask uint64, ok bool) {
	if s.n == 0 {
		return 0, true
	}
	last := s.off + s.n - 1
	switch start := sharedStart[s.off]; {
	case sharedStart[last] != start:
		return 0, false
	case s.off == start:
		return sharedBits[last], true
	}
	return sharedBits[last] &^ sharedBits[s.off-1], true
}

// sharedVals returns the values of a shared span, which must not be
// written to.
func (s span) sharedVals() []float64 {
	return shared[s.off : s.off+s.n : s.off+s.n]
}

// sharedSeq returns the n values min, min+step, ... as a stretch of
// shared, if there is one.
func sharedSeq(min, step float64, n int) (span, bool) {
	if n <= 0 || !(min >= 0 && min <= 366 && step >= 1 && step <= maxStep) {
		return span{}, false
	}
	a, s := int(min), int(step)
	if float64(a) != min || float64(s) != step || math.Signbit(min) {
		return span{}, false
	}
	switch last := a + (n-1)*s; {
	case s == 1 && last <= 366:
		return span{a, n, true}, true
	case s > 1 && a%s <= 1 && last <= 60:
		return span{steppedAt[s][a%s] + a/s, n, true}, true
	}
	return span{}, false
}

// textSchedule is the allocation behind a text schedule: the schedule
// and its program with a compiled definition and its matcher. text1,
// text2 and text3 add room for as many constraints (and a few values),
// and textExcept for a definition and an exception of one constraint
// each, so that a typical frequency takes a single allocation, and a
// small one.
type textSchedule struct {
	s    Schedule
	prog program
	comp [1]compiled
	m    [1]matcher
}

type text1 struct {
	textSchedule
	cons [1]constraint
	vals [3]float64
}

type text2 struct {
	textSchedule
	cons [2]constraint
	vals [1]float64
}

type text3 struct {
	textSchedule
	cons [3]constraint
	vals [3]float64
}

type textExcept struct {
	s    Schedule
	prog program
	comp [2]compiled
	m    [2]matcher
	cons [2]constraint
	vals [2]float64
}

// textStore is where compile puts a schedule: ms holds a matcher for
// each of the first definitions (the others get their own).
type textStore struct {
	s     *Schedule
	prog  *program
	comps []compiled
	ms    []matcher
	cons  []constraint
	vals  []float64
}

// newText allocates room for a schedule of n constraints in defs
// definitions.
func newText(n, defs int) textStore {
	if defs == 2 && n == 2 {
		t := new(textExcept)
		return textStore{&t.s, &t.prog, t.comp[:], t.m[:], t.cons[:], t.vals[:]}
	}
	var ts *textSchedule
	var cons []constraint
	var vals []float64
	switch n {
	case 0, 1:
		t := new(text1)
		ts, cons, vals = &t.textSchedule, t.cons[:], t.vals[:]
	case 2:
		t := new(text2)
		ts, cons, vals = &t.textSchedule, t.cons[:], t.vals[:]
	case 3:
		t := new(text3)
		ts, cons, vals = &t.textSchedule, t.cons[:], t.vals[:]
	default:
		ts, cons = new(textSchedule), make([]constraint, n)
	}
	comps := ts.comp[:]
	if defs > len(comps) {
		comps = make([]compiled, defs)
	}
	return textStore{&ts.s, &ts.prog, comps, ts.m[:], cons, vals}
}

// compile builds the schedule of a complete parse of expr.
func (b *builder) compile(expr string, compiledAt int64) *Schedule {
	if b.nLists == 1 && b.nDefs == 1 {
		return b.compileOne(expr, compiledAt)
	}
	ts := newText(b.nLists, b.nDefs)
	cons, vals := ts.cons, ts.vals
	var now float64 // needed for "after" only
	for d, i := 0, 0; i < b.nLists; d++ {
		first, end := i, b.defEnd(i)
		for ; i < end; i++ {
			vals = b.constraint(i, &cons[i], vals)
			if cons[i].mod == 'a' {
				now = float64(compiledAt)
			}
		}
		var m *matcher
		if d < len(ts.ms) {
			m = &ts.ms[d]
		}
		compileDef(&ts.comps[d], cons[first:end:end], now, m)
	}
	ts.prog.scheds, ts.prog.excs = ts.comps[:b.nScheds:b.nScheds], ts.comps[b.nScheds:b.nDefs:b.nDefs]
	ts.s.expr, ts.s.prog = expr, ts.prog
	return ts.s
}

// compileOne is compile for the most common frequency: one definition
// of one constraint.
func (b *builder) compileOne(expr string, compiledAt int64) *Schedule {
	t := new(text1)
	c := &t.cons[0]
	b.constraint(0, c, t.vals[:])
	var now float64
	if c.mod == 'a' {
		now = float64(compiledAt)
	}
	compileDef(&t.comp[0], t.cons[:], now, &t.m[0])
	t.prog.scheds, t.prog.excs = t.comp[:b.nScheds:b.nScheds], t.comp[b.nScheds:1:1] // "except ..." alone has no schedule
	t.s.expr, t.s.prog = expr, &t.prog
	return &t.s
}

// constraint sets c from list i, with its values in vals unless they are
// shared, and returns what is left of vals (or of a larger slice made when
// vals is too short for the lists from i on).
func (b *builder) constraint(i int, c *constraint, vals []float64) []float64 {
	l := b.listAt(i)
	c.k, c.mod = l.k.k, l.k.mod
	if l.vals.shared {
		c.vals = l.vals.sharedVals()
		c.mask, c.masked = l.vals.sharedMask()
		return vals
	}
	v := b.pool.vals(l.vals)
	if len(v) > len(vals) {
		vals = make([]float64, b.unshared(i))
	}
	n := copy(vals, v)
	c.vals = vals[:n:n]
	return vals[n:]
}

// unshared counts the values of lists i on that are not shared.
func (b *builder) unshared(i int) int {
	n := 0
	for ; i < b.nLists; i++ {
		if v := b.listAt(i).vals; !v.shared {
			n += v.n
		}
	}
	return n
}
