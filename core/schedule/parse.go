package schedule

import "math"

// key names one entry of a later schedule definition: a period and an
// optional "after"/"before" modifier ('a' / 'b').
type key struct {
	k   kind
	mod byte
}

// def is a later schedule definition; keys keep insertion order because
// later compiles them in that order (it matters when ranges tie).
type def struct {
	keys []key
	vals [][]float64
	seen []map[float64]struct{} // built only for long, unordered lists
	inc  []bool                 // the list is strictly increasing

	// Backing arrays for the common case of a few keys.
	keyBuf  [4]key
	valsBuf [4][]float64
	seenBuf [4]map[float64]struct{}
	incBuf  [4]bool
}

func (d *def) list(k key) int {
	for i, x := range d.keys {
		if x == k {
			return i
		}
	}
	if d.keys == nil {
		d.keys, d.vals, d.seen, d.inc = d.keyBuf[:0], d.valsBuf[:0], d.seenBuf[:0], d.incBuf[:0]
	}
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, []float64{})
	d.seen = append(d.seen, nil)
	d.inc = append(d.inc, true)
	return len(d.keys) - 1
}

// has reports whether list i already holds v. Values mostly arrive in
// increasing order, which needs no lookup; a set is built only for long
// lists that do not.
func (d *def) has(i int, v float64) bool {
	vals := d.vals[i]
	n := len(vals)
	if n == 0 || d.inc[i] && vals[n-1] < v {
		return false
	}
	if d.seen[i] == nil {
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
		d.seen[i] = m
	}
	_, ok := d.seen[i][v]
	return ok
}

// push appends v to list i, which must not hold it yet.
func (d *def) push(i int, v float64) {
	n := len(d.vals[i])
	d.inc[i] = n == 0 || d.inc[i] && d.vals[i][n-1] < v
	d.vals[i] = append(d.vals[i], v)
	if m := d.seen[i]; m != nil {
		m[v] = struct{}{}
	}
}

// Limits that keep parsing bounded where later.js would build enormous
// lists or loop forever.
const (
	maxSafeInt   = 1 << 53
	maxRangeLen  = 100000
	maxTotalVals = 1000000
)

// arena holds, in one allocation, what parsing and compiling a typical
// frequency needs: the schedule itself, its first definition, its
// compiled form and matcher, and the lowered input.
type arena struct {
	s       Schedule
	prog    program
	scheds  [1]compiled
	cons    [4]constraint
	m       matcher
	def     def
	defUsed bool
	defs    [1]*def
	everys  [2]everyUse
	units   [48]uint16
	floats  [32]float64 // value lists
	nfloats int
}

// everyUse records an `every N <period>` for warnings.
type everyUse struct {
	k kind
	n float64
}

// builder reproduces later.parse.recur's state machine.
type builder struct {
	schedules, exceptions []*def
	inExcept              bool
	cur                   *def
	values                []float64
	every                 float64
	modifier              byte
	applyMin, applyMax    bool
	last                  struct {
		k    key
		x    float64
		c    int
		m    float64
		set  bool
		into *def
	}
	everys []everyUse // each `every N <period>`, for warnings
	arena  *arena
	total  int
	thrown bool // later itself would have thrown
	big    bool // a list grew past our limits
}

// floats returns an empty slice with room for n values, from the arena
// while it lasts. The capacity is exact, so appending past it copies.
func (b *builder) floats(n int) []float64 {
	if a := b.arena; a != nil && n <= len(a.floats)-a.nfloats {
		s := a.floats[a.nfloats : a.nfloats : a.nfloats+n]
		a.nfloats += n
		return s
	}
	return make([]float64, 0, n)
}

// newDef returns an empty def, the first one from the arena.
func (b *builder) newDef() *def {
	if a := b.arena; a != nil && !a.defUsed {
		a.defUsed = true
		return &a.def
	}
	return &def{}
}

func (b *builder) arr() *[]*def {
	if b.inExcept {
		return &b.exceptions
	}
	return &b.schedules
}

// ap returns min, min+step, ... <= max, refusing lists that would not end
// or would be unreasonably long.
func (b *builder) ap(min, max, step float64) []float64 {
	if !(min <= max) {
		return nil
	}
	if min+step == min || (max-min)/step >= maxRangeLen || b.total > maxTotalVals {
		b.big = true
		return nil
	}
	out := b.floats(int((max-min)/step) + 1)
	for i := min; i <= max; i += step {
		out = append(out, i)
	}
	return out
}

func (b *builder) add(k kind, min, max float64) {
	b.addKey(key{k, b.modifier}, min, max)
}

func (b *builder) addKey(name key, min, max float64) {
	if b.cur == nil {
		a := b.arr()
		*a = append(*a, b.newDef())
		b.cur = (*a)[0]
	}
	li := b.cur.list(name)
	if b.every != 0 && !isNaN(b.every) {
		b.everys = append(b.everys, everyUse{name.k, b.every})
		b.values = b.ap(min, max, b.every)
		b.last.k, b.last.x, b.last.c, b.last.m, b.last.set, b.last.into = name, b.every, len(b.cur.vals[li]), max, true, b.cur
	}
	switch {
	case b.applyMin:
		b.values = append(b.floats(1), min)
	case b.applyMax:
		b.values = append(b.floats(1), max)
	}
	if len(b.cur.vals[li]) == 0 && len(b.values) > 0 && strictlyIncreasing(b.values) {
		// A fresh list, as the values always are here: adopt it.
		b.cur.vals[li] = b.values
		b.total += len(b.values)
		b.values = nil
	}
	for _, v := range b.values {
		if isNaN(v) || b.cur.has(li, v) {
			continue
		}
		b.cur.push(li, v)
		b.total++
	}
	b.values, b.every, b.modifier, b.applyMin, b.applyMax = nil, 0, 0, false, false
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
	if !b.last.set || b.cur == nil || b.cur != b.last.into {
		b.thrown = true
		return
	}
	li := b.cur.list(b.last.k)
	if c := b.last.c; c < len(b.cur.vals[li]) {
		if m := b.cur.seen[li]; m != nil {
			for _, v := range b.cur.vals[li][c:] {
				delete(m, v)
			}
		}
		b.cur.vals[li] = b.cur.vals[li][:c]
	}
	b.every = b.last.x
	b.modifier = 0
	b.addKey(b.last.k, start, end)
}

func (b *builder) also() {
	a := b.arr()
	*a = append(*a, b.newDef())
	b.cur = (*a)[len(*a)-1]
}

func (b *builder) except() {
	b.inExcept = true
	b.cur = nil
}

// parser reproduces later.parse.text: its tokenizer (longest match among
// the expected tokens, JS whitespace skipped first) and its recursive
// descent, including where it keeps going after an error.
type parser struct {
	in   []uint16
	pos  int
	err  int
	want []tok // what was expected where the last error was recorded
	big  int   // position of the first over-long list, or -1
	b    builder
}

// peek finds the longest match among the expected tokens after any
// whitespace. later tries the tokens first and skips whitespace only when
// it is longer than their best match, but no token can start with
// whitespace, so skipping it first is the same.
func (p *parser) peek(expected ...tok) (tok, int, int) {
	start := p.pos
	for start < len(p.in) && isSpace(p.in[start]) {
		start++
	}
	best, bestLen := tNone, -1
	if start < len(p.in) && p.in[start] < 128 {
		for _, t := range expected {
			if !canStart(t, p.in, start) {
				continue
			}
			if l := match(t, p.in, start); l > bestLen {
				best, bestLen = t, l
			}
		}
	}
	if best == tNone {
		return tNone, start, start
	}
	return best, start, start + bestLen
}

// parseToken scans one of the expected tokens, recording an error at the
// (whitespace-skipped) position when none matches.
func (p *parser) parseToken(expected ...tok) (tok, []uint16) {
	t, s, e := p.peek(expected...)
	p.pos = e
	if t == tNone {
		// Keep the first expectation at a position: it names what is
		// really missing ("every five" lacks a number, not a period).
		if p.err != p.pos || p.want == nil {
			p.want = expected
		}
		p.err = p.pos
		return tNone, nil
	}
	return t, p.in[s:e]
}

func (p *parser) check(t tok) bool {
	if x, _, _ := p.peek(one[t]...); x == t {
		p.parseToken(one[t]...)
		return true
	}
	return false
}

// value converts a token as later's convertString does (NaN on failure).
func (p *parser) value(t tok) float64 {
	tt, text := p.parseToken(one[t]...)
	if tt == tNone {
		return math.NaN()
	}
	switch t {
	case tTime:
		return timeValue(text)
	case tRank:
		return rankValue(text)
	case tDayName, tMonthName:
		return nameValue(text)
	case tYearIndex:
		return rankValue(text)
	}
	return math.NaN()
}

func (p *parser) tooBig(at int) {
	if p.big < 0 {
		p.big = at
	}
}

func (p *parser) throughExpr(t tok) []float64 {
	at := p.pos
	start := p.value(t)
	end := start
	if p.check(tThrough) {
		end = p.value(t)
	}
	if start >= maxSafeInt || end >= maxSafeInt || (start <= end && end-start >= maxRangeLen) {
		p.tooBig(at)
		return nil
	}
	n := 0
	if start <= end {
		n = int(end-start) + 1
	}
	out := p.b.floats(n)
	for i := start; i <= end; i++ {
		out = append(out, i)
	}
	return out
}

func (p *parser) ranges(t tok) []float64 {
	nums := p.throughExpr(t)
	for p.check(tAnd) {
		nums = append(nums, p.throughExpr(t)...)
	}
	return nums
}

var periodToks = []tok{tSecond, tMinute, tHour, tDayOfYear, tDayOfWeek, tDayInstance, tDay, tMonth, tYear, tWeekOfMonth, tWeekOfYear}

// one holds a one-token expectation for each token, so that recording it
// as the error's expectation allocates nothing.
var one = func() (a [tYearIndex + 1][]tok) {
	for i := range a {
		a[i] = []tok{tok(i)}
	}
	return a
}()

var topToks = []tok{tEvery, tAfter, tBefore, tOnThe, tOn, tOf, tIn, tAt, tAnd, tExcept, tAlso}

func (p *parser) timePeriod() tok {
	t, _ := p.parseToken(periodToks...)
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
	switch {
	case p.check(tWeekend):
		b.values = append(b.floats(2), 1, 7)
		b.add(kDow, 1, 7)
	case p.check(tWeekday):
		b.values = append(b.floats(5), 2, 3, 4, 5, 6)
		b.add(kDow, 1, 7)
	default:
		b.every = or(p.value(tRank), 1)
		period := p.timePeriod()
		if p.check(tStart) {
			n := p.value(tRank)
			if b.last.set {
				p.startingOn(n)
			} else {
				b.thrown = true
			}
			if period == tNone {
				b.thrown = true // later calls parseToken(undefined) and throws
			} else {
				p.parseToken(one[period]...)
			}
		} else if p.check(tBetween) {
			at := p.pos
			start := p.value(tRank)
			if p.check(tAnd) {
				end := p.value(tRank)
				p.betweenChecked(at, start, end)
			}
		}
	}
}

func (p *parser) startingOn(n float64) {
	p.b.between(n, p.b.last.m)
}

func (p *parser) betweenChecked(at int, start, end float64) {
	p.b.between(start, end)
	if p.b.big {
		p.tooBig(at)
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
	for p.pos < len(p.in) && p.err < 0 {
		t, _ := p.parseToken(topToks...)
		switch t {
		case tEvery:
			p.every()
		case tAfter, tBefore:
			mod := byte('a')
			if t == tBefore {
				mod = 'b'
			}
			if x, _, _ := p.peek(one[tTime]...); x != tNone {
				v := p.value(tTime)
				b.modifier, b.values = mod, append(b.floats(1), v)
				b.add(kTime, 0, 0)
			} else {
				v := p.value(tRank)
				b.modifier, b.values = mod, append(b.floats(1), v)
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
			b.values = append(b.floats(1), p.value(tTime))
			b.add(kTime, 0, 0)
			for p.check(tAnd) {
				b.values = append(b.floats(1), p.value(tTime))
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
