package status

import "time"

// entry is a beat as a heartbeat's ring keeps it. The recorder holds
// MaxBeats of them for every heartbeat, which at ten thousand heartbeats
// is most of the daemon's memory, so an entry is about half a Beat with
// its deliveries and allocates nothing of its own for a beat with one
// target: the first delivery is packed inline, with its signal, result and
// kind as codes. A check, later deliveries and any delivery that does not
// pack go to extra, allocated only for such a beat.
type entry struct {
	seq       uint64
	scheduled time.Time // the scheduler's time, location kept
	// started and finished are Unix nanoseconds of the recorder's clock,
	// read back in the clock's location (without its monotonic reading,
	// which no output shows).
	started, finished int64
	first             packedDelivery // valid when packed
	extra             *entryExtra    // nil: no check, no other delivery
	outcome           uint8
	packed            bool
}

// entryExtra is what a beat holds besides its first delivery.
type entryExtra struct {
	check *CheckResult
	rest  []Delivery // the deliveries after first, or all when !packed
}

// packedDelivery is a Delivery whose signal, result and kind have codes.
type packedDelivery struct {
	target, detail       string
	durationMS           float64
	attempts             int32
	signal, result, kind uint8
}

// The names a delivery's signal, result and kind, and a beat's outcome,
// take: an entry keeps their code. Code 0 is "". OutcomeFailed and
// OutcomeSkipped are ResultFailed and ResultSkipped.
const numWords = 17

// code is s's code; false when s has none. It reads word's list, so that
// the words are listed once.
func code(s string) (uint8, bool) {
	for c := range uint8(numWords) {
		if word(c) == s {
			return c, true
		}
	}
	return 0, false
}

// word is the name of code c; "" for a code without one.
func word(c uint8) string {
	switch c {
	case 1:
		return "success"
	case 2:
		return "start"
	case 3:
		return "fail"
	case 4:
		return "log"
	case 5:
		return "unspecified"
	case 6:
		return ResultDelivered
	case 7:
		return ResultFailed
	case 8:
		return ResultSkipped
	case 9:
		return "temporary"
	case 10:
		return "permanent"
	case 11:
		return "not_found"
	case 12:
		return "rate_limited"
	case 13:
		return "not_configured"
	case 14:
		return OutcomeOK
	case 15:
		return OutcomeDegraded
	case 16:
		return OutcomeCheckFailed
	}
	return ""
}

// pack turns b into an entry. An outcome without a code (none the recorder
// sets) is kept as "".
func pack(b Beat) entry {
	e := entry{seq: b.Sequence, scheduled: b.ScheduledAt, started: b.StartedAt.UnixNano(), finished: b.FinishedAt.UnixNano()}
	e.outcome, _ = code(b.Outcome)
	ds := b.Deliveries
	if len(ds) > 0 {
		if p, ok := packDelivery(ds[0]); ok {
			e.first, e.packed = p, true
			ds = ds[1:]
		}
	}
	if b.Check != nil || len(ds) > 0 {
		e.extra = &entryExtra{check: b.Check}
		if len(ds) > 0 {
			e.extra.rest = append(make([]Delivery, 0, len(ds)), ds...)
		}
	}
	return e
}

func packDelivery(d Delivery) (packedDelivery, bool) {
	signal, ok1 := code(d.Signal)
	result, ok2 := code(d.Result)
	kind, ok3 := code(d.Kind)
	attempts := int32(d.Attempts)
	if !ok1 || !ok2 || !ok3 || int(attempts) != d.Attempts {
		return packedDelivery{}, false
	}
	return packedDelivery{target: d.Target, detail: d.Detail, durationMS: d.DurationMS, attempts: attempts, signal: signal, result: result, kind: kind}, true
}

// beat is e as a Beat, sharing nothing mutable with e; loc is the
// recorder's clock's location.
func (e *entry) beat(loc *time.Location) Beat {
	b := Beat{
		Sequence: e.seq, ScheduledAt: e.scheduled,
		StartedAt: time.Unix(0, e.started).In(loc), FinishedAt: time.Unix(0, e.finished).In(loc),
		Outcome: word(e.outcome),
	}
	var extra entryExtra
	if e.extra != nil {
		extra = *e.extra
	}
	b.Deliveries = make([]Delivery, 0, len(extra.rest)+1)
	if extra.check != nil {
		b.Check = extra.check.clone()
	}
	if e.packed {
		p := e.first
		b.Deliveries = append(b.Deliveries, Delivery{
			Target: p.target, Signal: word(p.signal), Result: word(p.result), Kind: word(p.kind),
			Attempts: int(p.attempts), DurationMS: p.durationMS, Detail: p.detail,
		})
	}
	b.Deliveries = append(b.Deliveries, extra.rest...)
	return b
}
