package schedule

import "math"

// maxAttempts is later's search budget; when it runs out later returns
// wherever the search stopped, and so do we.
const maxAttempts = 1000

// constraint is one compiled period of a schedule: a period, optionally
// wrapped by later's "after"/"before" modifier, and its value list.
type constraint struct {
	k      kind
	mod    byte // 0, 'a' (after) or 'b' (before)
	masked bool // vals are a shared progression and mask their bits
	mv     float64
	vals   []float64
	mask   uint64 // bit v for each value v below 64, when masked
}

func (c *constraint) val(d date) float64 { return c.k.val(d) }

func (c *constraint) isValid(d date, v float64) bool {
	switch c.mod {
	case 'a':
		return c.k.val(d) >= c.mv
	case 'b':
		return c.k.val(d) < c.mv
	}
	return c.k.isValid(d, v)
}

func (c *constraint) next(d date, v float64) date {
	switch c.mod {
	case 'a':
		if v != c.mv {
			v = c.k.extMin()
		}
	case 'b':
		if v == c.mv {
			v = c.k.extMin()
		} else {
			v = c.mv
		}
	}
	return c.k.next(d, v)
}

// compiled is one later schedule (or exception): constraints ordered from
// the coarsest period to the finest, the finest being the tick.
type compiled struct {
	cons []constraint
	tick kind
	fast *matcher // nil when later's search must be stepped through
}

// compileDef compiles into out a definition: cons, its constraints in
// the order later lists them, which it completes and orders from the
// coarsest period to the finest. now is the compile time (ms since the
// epoch); m, when not nil, is the storage for the matcher.
func compileDef(out *compiled, cons []constraint, now float64, m *matcher) {
	if len(cons) == 1 {
		cons[0].setMV()
	} else {
		sortByRange(cons, now)
	}
	out.cons, out.tick = cons, cons[len(cons)-1].k
	out.fast = newMatcher(cons, out.tick, m)
}

// setMV sets the value an "after"/"before" modifier compares with: the
// first value, or the last one.
func (c *constraint) setMV() {
	n := len(c.vals)
	switch c.mod {
	case 'a':
		c.mv = math.NaN()
		if n > 0 {
			c.mv = c.vals[0]
		}
	case 'b':
		c.mv = math.NaN()
		if n > 0 {
			c.mv = c.vals[n-1]
		}
	}
}

// sortByRange sets the modifiers' values of cons and orders cons as later
// does, by decreasing range: how long a unit lasts, scaled for
// "after"/"before" (measured against the calendar at now for "after").
func sortByRange(cons []constraint, now float64) {
	var buf [8]float64
	rng := buf[:0]
	if len(cons) > len(buf) {
		rng = make([]float64, 0, len(cons))
	}
	for i := range cons {
		c := &cons[i]
		c.setMV()
		r := c.k.rangeSecs()
		switch c.mod {
		case 'a':
			r = (c.k.extMax(mk(now)) - c.mv) * r
		case 'b':
			r = r * (c.mv - 1)
		}
		rng = append(rng, r)
	}
	// A stable insertion sort (sort.SliceStable allocates, and there are
	// only a few constraints).
	for i := 1; i < len(cons); i++ {
		for j := i; j > 0 && rng[j-1] < rng[j]; j-- {
			cons[j-1], cons[j] = cons[j], cons[j-1]
			rng[j-1], rng[j] = rng[j], rng[j-1]
		}
	}
}

// arrayNext is later.array.next: the value the period should move to,
// assuming (as later does) that vals is sorted.
func arrayNext(value float64, vals []float64, lo, hi float64) float64 {
	if len(vals) == 0 {
		return math.NaN()
	}
	zeroIsLargest := lo != 0
	idx := 0
	for i := len(vals) - 1; i >= 0; i-- {
		cur := vals[i]
		if cur == value {
			return cur
		}
		if cur > value || (cur == 0 && zeroIsLargest && hi > value) {
			idx = i
			continue
		}
		break
	}
	return vals[idx]
}

// arrayNextInvalid is later.array.nextInvalid: the first value from value
// on that is not in vals; ok=false when every value is.
func arrayNextInvalid(value float64, vals []float64, lo, hi float64) (float64, bool) {
	n := len(vals)
	zero := 0.0
	if n > 0 && vals[n-1] == 0 && lo != 0 {
		zero = hi
	}
	i := -1
	for j, v := range vals {
		if v == value {
			i = j
			break
		}
	}
	next, start := value, value
	for steps := 0; steps < 1<<20; steps++ {
		el := zero
		if i >= 0 && i < n {
			el = or(vals[i], zero)
		}
		if next != el {
			return next, true
		}
		next++
		if next > hi {
			next = lo
		}
		i++
		if i == n {
			i = 0
		}
		if next == start {
			return 0, false
		}
	}
	return next, true
}

// start is compile().start('next', from): the start of the first matching
// period at or after from, or whatever the bounded search reached.
func (c *compiled) start(from date) date {
	if c.fast != nil {
		if d, ok := c.fast.start(from); ok {
			return d
		}
	}
	return c.slowStart(from)
}

// slowStart steps through later's search.
func (c *compiled) slowStart(from date) date {
	next := from
	done := false
	for attempts := 0; attempts < maxAttempts && !done && next.t != never; attempts++ {
		done = true
		for i := range c.cons {
			con := &c.cons[i]
			cur := con.val(next)
			nv := arrayNext(cur, con.vals, con.k.extMin(), con.k.extMax(next))
			if !con.isValid(next, nv) {
				next = con.next(next, nv)
				done = false
				break
			}
		}
	}
	if next.t != never {
		next = c.tick.start(next)
	}
	return next
}

// end is compile().end('next', from): where the match starting at from
// stops matching; ok=false when it never stops.
func (c *compiled) end(from date) (date, bool) {
	var res date
	has := false
	for i := len(c.cons) - 1; i >= 0; i-- {
		con := &c.cons[i]
		cur := con.val(from)
		nv, ok := arrayNextInvalid(cur, con.vals, con.k.extMin(), con.k.extMax(from))
		if !ok {
			continue
		}
		n := con.next(from, nv)
		if n.t == never {
			continue
		}
		if !has || res.t > n.t {
			res, has = n, true
		}
	}
	return res, has
}

// startAfter is start(tickNext(d)) for a start d of c. Every start is
// the beginning of a tick period (or any instant, for seconds), where
// tickNext is the matcher's after.
func (c *compiled) startAfter(d date) date {
	if f := c.fast; f != nil && d.t >= fastLo && d.t < fastHi {
		if ms, ok := f.startMS(f.after(int64(d.t))); ok {
			return mk(float64(ms))
		}
	}
	return c.start(c.tickNext(d))
}

func (c *compiled) tickNext(d date) date {
	e := c.tick.end(d)
	return mkNear(e.t+msSec, e)
}

// program is a whole later schedule: alternatives and exceptions.
type program struct {
	scheds []compiled
	excs   []compiled
}

// exRange is an exception's current matching range; end may be absent.
type exRange struct {
	start, end date
	hasEnd     bool
	never      bool
}

// after reports JavaScript's `a > b` between two possibly absent dates
// the way later's compare does: an absent side counts as true.
func after(a, b date) bool {
	if a.t == never || b.t == never {
		return true
	}
	return a.t > b.t
}

// next is later.schedule(...).next(count, from). Entries may be NaN where
// later would produce an invalid Date. ok=false where later would throw
// (it rejects the epoch itself as a start date, for one).
func (p *program) next(count int, fromMS float64, buf []float64) (out []float64, ok bool) {
	if count <= 0 || isNaN(fromMS) || math.Abs(fromMS) > maxTime || fromMS == 0 {
		return nil, false
	}
	out = buf[:0]
	if len(p.scheds) == 1 && len(p.excs) == 0 && p.scheds[0].fast != nil {
		var cur int64
		out, cur = p.scheds[0].fast.run(count, int64(fromMS), out)
		if len(out) == count {
			return out, true
		}
		if len(out) > 0 {
			return p.slowNext(count, mk(fromMS), mk(float64(cur)), out)
		}
	}
	if res, ok := p.nextExceptDays(count, int64(fromMS), out); ok {
		return res, true
	}
	from := mk(fromMS)
	return p.slowNext(count, from, from, out[:0])
}

// slowNext steps through later's search; the first schedule (when there
// is only one) continues from resume, after the occurrences already in out.
func (p *program) slowNext(count int, from, resume date, out []float64) (res []float64, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, isThrow := r.(jsThrow); !isThrow {
				panic(r)
			}
			res, ok = nil, false
		}
	}()
	var startBuf [4]date
	starts := startBuf[:0]
	if len(p.scheds) > len(startBuf) {
		starts = make([]date, 0, len(p.scheds))
	}
	starts = starts[:len(p.scheds)]
	for i := range p.scheds {
		starts[i] = p.scheds[i].start(resume)
	}
	var exBuf [2]exRange
	exs := exBuf[:0]
	if len(p.excs) > len(exBuf) {
		exs = make([]exRange, 0, len(p.excs))
	}
	exs = exs[:len(p.excs)]
	for i := range p.excs {
		exs[i] = p.excRange(i, from)
	}
	loop := count - len(out)
	for attempts := len(out); attempts < maxAttempts && loop > 0; attempts++ {
		if len(starts) == 0 {
			break
		}
		next := starts[0]
		for i := 1; i < len(starts); i++ {
			if starts[i].t != never && after(next, starts[i]) {
				next = starts[i]
			}
		}
		if next.t == never {
			break
		}
		if len(p.excs) > 0 {
			for i := range exs {
				if !exs[i].never && !after(exs[i].start, next) {
					exs[i] = p.excRange(i, next)
				}
			}
			if end, ok := overlap(exs, next); ok {
				for i := range starts {
					if starts[i].t != never && !after(starts[i], end) {
						starts[i] = p.scheds[i].start(end)
					}
				}
				continue
			}
		}
		out = append(out, math.Max(from.t, next.t))
		for i := range starts {
			if starts[i].t != never && starts[i].t == next.t {
				starts[i] = p.scheds[i].startAfter(next)
			}
		}
		loop--
	}
	return out, true
}

func (p *program) excRange(i int, from date) exRange {
	s := p.excs[i].start(from)
	if s.t == never {
		return exRange{never: true}
	}
	e, ok := p.excs[i].end(s)
	return exRange{start: s, end: e, hasEnd: ok}
}

// overlap is later's calcRangeOverlap: the furthest end of the exceptions
// covering d. ok=false also when a covering exception has no end, which
// later treats as "no overlap".
func overlap(exs []exRange, d date) (date, bool) {
	var res date
	has := false
	for _, r := range exs {
		if r.never || after(r.start, d) || (r.hasEnd && !after(r.end, d)) {
			continue
		}
		switch {
		case !r.hasEnd:
			has = false
		case !has || r.end.t > res.t:
			res, has = r.end, true
		}
	}
	return res, has
}
