package status

import "time"

// entry is a beat as a heartbeat's ring keeps it. The recorder holds
// MaxBeats of them for every heartbeat, which at ten thousand heartbeats
// is most of the daemon's memory. So an entry is 56 bytes, and holds no
// pointer: the collector never scans a ring, and a beat with one target
// allocates nothing of its own. Its first delivery is packed inline: the
// signal, result and kind as codes, the target as an index in the
// recorder's names, the detail as an index in the heartbeat's details.
// A check, later deliveries, and anything that does not pack go to the
// heartbeat's extras, kept by ring slot, only for such a beat.
type entry struct {
	seq       uint64
	scheduled int64 // Unix nanoseconds, read back in zones[zone]
	// started and finished are Unix nanoseconds of the recorder's clock,
	// read back in the clock's location. No time read back keeps its
	// monotonic reading, which no output shows.
	started, finished int64
	// The first delivery, when packed.
	durationMS           float64
	attempts             int32
	target               uint32 // in tables.names
	detail               uint16 // in hbState.details
	zone                 uint8  // in tables.zones
	signal, result, kind uint8
	outcome              uint8
	flags                uint8
}

const (
	packed    uint8 = 1 << iota // the first delivery is inline
	ownZone                     // extra.scheduled holds the scheduled time
	maxZones  = 256
	noDetails = 1 << 16 // past the indices a detail can have
)

// entryExtra is what a beat holds besides its inline part.
type entryExtra struct {
	check     *CheckResult
	rest      []Delivery // the deliveries after the first, or all when not packed
	scheduled time.Time  // when the zone has no index
}

// tables are the recorder's strings and zones that entries name by index.
// They only grow, bounded by the names and zones ever configured.
type tables struct {
	names     []string // names[0] is ""
	nameIndex map[string]uint32
	zones     []*time.Location
}

func (t *tables) name(s string) uint32 {
	if i, ok := t.nameIndex[s]; ok {
		return i
	}
	if t.nameIndex == nil {
		t.names, t.nameIndex = []string{""}, map[string]uint32{"": 0}
		if s == "" {
			return 0
		}
	}
	t.names = append(t.names, s)
	t.nameIndex[s] = uint32(len(t.names) - 1)
	return uint32(len(t.names) - 1)
}

func (t *tables) zone(loc *time.Location) (uint8, bool) {
	for i, z := range t.zones {
		if z == loc {
			return uint8(i), true
		}
	}
	if len(t.zones) == maxZones {
		return 0, false
	}
	t.zones = append(t.zones, loc)
	return uint8(len(t.zones) - 1), true
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

// pack turns b into an entry; extra is nil when the entry holds all of b.
// An outcome without a code (none the recorder sets) is kept as "".
func (h *hbState) pack(t *tables, b Beat, limit int) (entry, *entryExtra) {
	e := entry{seq: b.Sequence, scheduled: b.ScheduledAt.UnixNano(), started: b.StartedAt.UnixNano(), finished: b.FinishedAt.UnixNano()}
	e.outcome, _ = code(b.Outcome)
	var x entryExtra
	zone, ok := t.zone(b.ScheduledAt.Location())
	if ok && inNanoRange(b.ScheduledAt) {
		e.zone = zone
	} else {
		x.scheduled, e.flags = b.ScheduledAt, ownZone
	}
	ds := b.Deliveries
	if len(ds) > 0 && h.packDelivery(t, &e, ds[0], limit) {
		ds = ds[1:]
	}
	x.check = b.Check
	if len(ds) > 0 {
		x.rest = append(make([]Delivery, 0, len(ds)), ds...)
	}
	if x.check == nil && x.rest == nil && e.flags&ownZone == 0 {
		return e, nil
	}
	return e, &x
}

// inNanoRange reports whether t survives Unix nanoseconds (years 1678 to
// 2262; not the zero time).
func inNanoRange(t time.Time) bool {
	return time.Unix(0, t.UnixNano()).Equal(t)
}

// packDelivery puts d inline in e, when its words have codes and its
// detail an index.
func (h *hbState) packDelivery(t *tables, e *entry, d Delivery, limit int) bool {
	signal, ok1 := code(d.Signal)
	result, ok2 := code(d.Result)
	kind, ok3 := code(d.Kind)
	attempts := int32(d.Attempts)
	if !ok1 || !ok2 || !ok3 || int(attempts) != d.Attempts {
		return false
	}
	detail, ok := h.detailIndex(d.Detail, limit)
	if !ok {
		return false
	}
	e.target, e.detail, e.durationMS, e.attempts = t.name(d.Target), detail, d.DurationMS, attempts
	e.signal, e.result, e.kind = signal, result, kind
	e.flags |= packed
	return true
}

// detailIndex is d's index in the heartbeat's details, added when new.
// The details stay within twice the ring's limit: when full, those no
// entry names any more go.
func (h *hbState) detailIndex(d string, limit int) (uint16, bool) {
	if d == "" {
		return 0, true
	}
	// The latest first: a target tends to answer as it did last time.
	for i := len(h.details) - 1; i >= 1; i-- {
		if h.details[i] == d {
			return uint16(i), true
		}
	}
	most := min(2*limit+2, noDetails)
	if len(h.details) >= most {
		h.compactDetails()
	}
	if len(h.details) >= most {
		return 0, false
	}
	if len(h.details) == 0 {
		h.details = append(h.details, "")
	}
	h.details = append(h.details, d)
	return uint16(len(h.details) - 1), true
}

// compactDetails keeps only the details the ring's entries name, and
// renumbers the entries.
func (h *hbState) compactDetails() {
	renumber := make(map[uint16]uint16, len(h.ring))
	kept := []string{""}
	for i := range h.ring {
		e := &h.ring[i]
		if e.flags&packed == 0 || e.detail == 0 {
			continue
		}
		n, ok := renumber[e.detail]
		if !ok {
			kept = append(kept, h.details[e.detail])
			n = uint16(len(kept) - 1)
			renumber[e.detail] = n
		}
		e.detail = n
	}
	h.details = kept
}

// beat is the entry in ring slot i as a Beat, sharing nothing mutable
// with the ring; loc is the recorder's clock's location.
func (h *hbState) beat(t *tables, i int, loc *time.Location) Beat {
	e := &h.ring[i]
	b := Beat{
		Sequence:  e.seq,
		StartedAt: time.Unix(0, e.started).In(loc), FinishedAt: time.Unix(0, e.finished).In(loc),
		Outcome: word(e.outcome),
	}
	var x entryExtra
	if extra := h.extras[i]; extra != nil { // push keeps a slot's extra with its entry
		x = *extra
	}
	if e.flags&ownZone != 0 {
		b.ScheduledAt = x.scheduled
	} else {
		b.ScheduledAt = time.Unix(0, e.scheduled).In(t.zones[e.zone])
	}
	b.Deliveries = make([]Delivery, 0, len(x.rest)+1)
	if x.check != nil {
		b.Check = x.check.clone()
	}
	if e.flags&packed != 0 {
		var detail string // index 0: none, with or without a table
		if e.detail != 0 {
			detail = h.details[e.detail]
		}
		b.Deliveries = append(b.Deliveries, Delivery{
			Target: t.names[e.target], Signal: word(e.signal), Result: word(e.result), Kind: word(e.kind),
			Attempts: int(e.attempts), DurationMS: e.durationMS, Detail: detail,
		})
	}
	b.Deliveries = append(b.Deliveries, x.rest...)
	return b
}
