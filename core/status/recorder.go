package status

import (
	"slices"
	"sync"
	"time"
)

// Options configure a Recorder.
type Options struct {
	// MaxBeats is how many beats are kept per heartbeat; MaxBeats when 0.
	MaxBeats int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Ready reports what /healthz reports; false when nil.
	Ready func() bool
	// Plugins lists the plugin processes; none when nil.
	Plugins func() []Plugin
}

// HeartbeatSpec is a heartbeat as configured: what the recorder shows
// besides its history. It never holds a target's settings.
type HeartbeatSpec struct {
	Name      string
	Frequency string
	Timezone  string
	// Check describes the health check without secrets; "" without one.
	Check   string
	Targets []TargetSpec
}

// TargetSpec is one target of a heartbeat as configured.
type TargetSpec struct {
	Name   string
	Plugin string
	// Description is the plugin's redacted Describe().
	Description string
}

// Recorder keeps the recent history of every heartbeat in memory, within
// fixed bounds: MaxBeats beats per heartbeat, every string one line and
// bounded, heartbeats no longer configured dropped. It is safe for
// concurrent use; the zero of *Recorder (nil) records nothing.
type Recorder struct {
	opts    Options
	started time.Time
	loc     *time.Location // the clock's, for times read back from entries

	mu         sync.Mutex
	heartbeats []*hbState // config order
	byName     map[string]*hbState
	tables     tables // what ring entries name by index
}

// hbState is the recorder's state of one heartbeat.
type hbState struct {
	key      string // the name as configured, before bounding
	spec     HeartbeatSpec
	next     time.Time // zero: not scheduled
	lastFire time.Time // scheduled time of the last tick, skipped ones included
	state    string
	targets  []*tgState
	// byName indexes targets when they are many (see target); nil for
	// the usual one to a few, which a scan finds as fast without a map
	// per heartbeat.
	byName map[string]*tgState
	// ring holds the last beats; the oldest is at ring[head] once full.
	ring []entry
	head int
	// details are the first deliveries' details the ring's entries name
	// (details[0] is ""); extras hold, by ring slot, what an entry does
	// not (nil until a beat needs it).
	details []string
	extras  map[int]*entryExtra
	// removed is set when a reload drops the heartbeat: a beat begun
	// before then records nothing more.
	removed bool
}

// tgState is a target's last result. Its times are kept as values, and
// the state's time pointers are nil: a delivery allocates nothing here.
type tgState struct {
	state                  TargetState
	at, success, delivered time.Time // zero: never
}

// mapTargetsFrom is how many targets a heartbeat has before they are
// indexed by a map rather than scanned.
const mapTargetsFrom = 8

// target is the heartbeat's target of that name; nil when none.
func (h *hbState) target(name string) *tgState {
	if h.byName != nil {
		return h.byName[name]
	}
	for _, t := range h.targets {
		if t.state.Name == name {
			return t
		}
	}
	return nil
}

func (h *hbState) addTarget(t *tgState) {
	h.targets = append(h.targets, t)
	switch {
	case h.byName != nil:
		h.byName[t.state.Name] = t
	case len(h.targets) >= mapTargetsFrom:
		h.byName = make(map[string]*tgState, len(h.targets))
		for _, t := range h.targets {
			h.byName[t.state.Name] = t
		}
	}
}

// NewRecorder returns an empty Recorder; Configure tells it the heartbeats.
func NewRecorder(opts Options) *Recorder {
	if opts.MaxBeats <= 0 {
		opts.MaxBeats = MaxBeats
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	started := opts.Now()
	return &Recorder{opts: opts, started: started, loc: started.Location(), byName: map[string]*hbState{}}
}

// Configure sets the heartbeats in force, in config order: heartbeats no
// longer there are dropped with their history; a heartbeat under a new
// name starts fresh. A heartbeat that keeps its name keeps its history,
// and each of its targets that keeps its name and plugin its last result.
func (r *Recorder) Configure(specs []HeartbeatSpec) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	byName := make(map[string]*hbState, len(specs))
	order := make([]*hbState, 0, len(specs))
	for _, spec := range specs {
		key := spec.Name
		if _, dup := byName[key]; dup {
			continue
		}
		h, ok := r.byName[key]
		if !ok {
			h = &hbState{key: key, state: StatePending}
		}
		h.spec = boundSpec(spec)
		spec = h.spec
		fresh := &hbState{targets: make([]*tgState, 0, len(spec.Targets))}
		for _, ts := range spec.Targets {
			if fresh.target(ts.Name) != nil {
				continue
			}
			t := h.target(ts.Name)
			if t == nil || t.state.Plugin != ts.Plugin {
				t = &tgState{state: TargetState{Name: ts.Name, Plugin: ts.Plugin}}
			}
			t.state.Description = ts.Description
			fresh.addTarget(t)
		}
		h.targets, h.byName = fresh.targets, fresh.byName
		byName[key] = h
		order = append(order, h)
	}
	for _, h := range r.heartbeats {
		if byName[h.key] != h {
			h.removed = true
		}
	}
	r.heartbeats, r.byName = order, byName
}

func boundSpec(s HeartbeatSpec) HeartbeatSpec {
	out := HeartbeatSpec{
		Name:      OneLine(s.Name, maxName),
		Frequency: OneLine(s.Frequency, maxDescription),
		Timezone:  OneLine(s.Timezone, maxName),
		Check:     OneLine(s.Check, maxDescription),
		Targets:   make([]TargetSpec, 0, len(s.Targets)),
	}
	for _, t := range s.Targets {
		out.Targets = append(out.Targets, TargetSpec{
			Name:        OneLine(t.Name, maxName),
			Plugin:      OneLine(t.Plugin, maxName),
			Description: OneLine(t.Description, maxDescription),
		})
	}
	return out
}

// Planned records a heartbeat's next fire time; ok false: it fires no more.
func (r *Recorder) Planned(name string, next time.Time, ok bool) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if h := r.byName[name]; h != nil {
		if !ok {
			next = time.Time{}
		}
		h.next = next
	}
}

// Skipped records a tick that did not run because the heartbeat's
// previous beat still ran.
func (r *Recorder) Skipped(name string, sequence uint64, scheduledAt time.Time) {
	if r == nil {
		return
	}
	now := r.opts.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.byName[name]
	if h == nil {
		return
	}
	h.lastFire = scheduledAt
	h.push(&r.tables, Beat{Sequence: sequence, ScheduledAt: scheduledAt, StartedAt: now, FinishedAt: now, Outcome: OutcomeSkipped, Deliveries: []Delivery{}}, r.opts.MaxBeats)
}

// push appends b to the ring, dropping the oldest beat when it holds
// limit. The ring grows as beats come, up to limit and no further: a
// heartbeat that beats hourly does not hold room for 60 beats from its
// start, nor do ten thousand heartbeats before their first minute.
func (h *hbState) push(t *tables, b Beat, limit int) {
	e, x := h.pack(t, b, limit)
	slot := h.head
	if len(h.ring) < limit {
		if len(h.ring) == cap(h.ring) {
			grown := make([]entry, len(h.ring), min(max(2*cap(h.ring), 4), limit))
			copy(grown, h.ring)
			h.ring = grown
		}
		slot = len(h.ring)
		h.ring = append(h.ring, e)
	} else {
		h.ring[slot] = e
		h.head = (h.head + 1) % len(h.ring)
	}
	switch {
	case x != nil:
		if h.extras == nil {
			h.extras = map[int]*entryExtra{}
		}
		h.extras[slot] = x
	case h.extras != nil:
		delete(h.extras, slot)
	}
}

// Begin starts recording one beat of a heartbeat. It returns nil (which
// records nothing) when the heartbeat is not configured.
func (r *Recorder) Begin(name string, sequence uint64, scheduledAt time.Time) *BeatRecord {
	if r == nil {
		return nil
	}
	now := r.opts.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.byName[name]
	if h == nil {
		return nil
	}
	h.lastFire = scheduledAt
	rec := &BeatRecord{r: r, h: h, beat: Beat{Sequence: sequence, ScheduledAt: scheduledAt, StartedAt: now}, maxDeliveries: max(2*len(h.targets), 2)}
	rec.beat.Deliveries = rec.inline[:0]
	return rec
}

// BeatRecord collects one beat as it happens; Finish files it. Its
// methods are safe for concurrent use, and do nothing on nil.
type BeatRecord struct {
	r             *Recorder
	h             *hbState
	maxDeliveries int
	// beat is guarded by r.mu.
	beat Beat
	done bool
	// inline backs beat.Deliveries for a beat with one target; the ring
	// keeps a copy, packed.
	inline [1]Delivery
}

// Check records the result of the beat's health check.
func (b *BeatRecord) Check(c CheckResult) {
	if b == nil {
		return
	}
	c.Message = OneLine(c.Message, MaxDetail)
	kept := c.clone()
	b.r.mu.Lock()
	defer b.r.mu.Unlock()
	b.beat.Check = kept
}

// clone is a copy of c that shares nothing with it.
func (c CheckResult) clone() *CheckResult {
	if c.ExitCode != nil {
		code := *c.ExitCode
		c.ExitCode = &code
	}
	return &c
}

// Deliver records one signal's delivery to one target, and updates the
// target's last result at once.
func (b *BeatRecord) Deliver(d Delivery) {
	if b == nil {
		return
	}
	d.Target = OneLine(d.Target, maxName)
	d.Signal = OneLine(d.Signal, maxName)
	d.Kind = OneLine(d.Kind, maxName)
	d.Detail = OneLine(d.Detail, MaxDetail)
	now := b.r.opts.Now()
	b.r.mu.Lock()
	defer b.r.mu.Unlock()
	if b.done {
		return
	}
	var t *tgState
	if !b.h.removed {
		t = b.h.target(d.Target)
	}
	if t != nil && d.Detail == t.state.LastDetail {
		// The same answer as last time, most often: the ring shares one
		// string instead of keeping one per beat.
		d.Detail = t.state.LastDetail
	}
	if len(b.beat.Deliveries) < b.maxDeliveries {
		b.beat.Deliveries = append(b.beat.Deliveries, d)
	}
	if t == nil {
		return
	}
	t.state.LastSignal, t.state.LastResult, t.state.LastKind, t.state.LastDetail, t.at = d.Signal, d.Result, d.Kind, d.Detail, now
	if d.Result == ResultDelivered {
		switch d.Signal {
		case "success":
			t.success = now
			t.delivered = now
		case "fail":
			t.delivered = now
		}
	}
}

// Finish files the beat with its outcome. A beat cut before it sent its
// result (the daemon stopping during its check) is dropped instead: see
// Discard.
func (b *BeatRecord) Finish() {
	if b == nil {
		return
	}
	now := b.r.opts.Now()
	b.r.mu.Lock()
	defer b.r.mu.Unlock()
	if b.done {
		return
	}
	b.done = true
	if b.h.removed {
		return
	}
	b.beat.FinishedAt = now
	b.beat.Outcome = outcome(b.beat)
	b.h.push(&b.r.tables, b.beat, b.r.opts.MaxBeats)
	b.h.state = stateOf(b.beat.Outcome)
}

// Discard drops the beat: it found nothing worth showing (a check cut by
// shutdown). Deliveries already made stay in their targets' last results.
func (b *BeatRecord) Discard() {
	if b == nil {
		return
	}
	b.r.mu.Lock()
	defer b.r.mu.Unlock()
	b.done = true
}

// outcome sums up a beat from the result signal (success or fail) of
// each target; start and log signals, and signals a target does not take,
// do not count.
func outcome(b Beat) string {
	delivered, failed := 0, 0
	for _, d := range b.Deliveries {
		if d.Signal != "success" && d.Signal != "fail" {
			continue
		}
		switch d.Result {
		case ResultDelivered:
			delivered++
		case ResultFailed:
			failed++
		}
	}
	switch {
	case failed > 0 && delivered == 0:
		return OutcomeFailed
	case b.Check != nil && !b.Check.OK:
		return OutcomeCheckFailed
	case failed > 0:
		return OutcomeDegraded
	}
	return OutcomeOK
}

func stateOf(outcome string) string {
	switch outcome {
	case OutcomeOK:
		return StateOK
	case OutcomeDegraded:
		return StateDegraded
	}
	return StateFailing
}

// Snapshot returns a copy of the recorded state.
func (r *Recorder) Snapshot() Snapshot {
	if r == nil {
		return Snapshot{Version: SchemaVersion, Heartbeats: []Heartbeat{}, Plugins: []Plugin{}}
	}
	// Ready and Plugins ask the daemon: never under our lock.
	snap := Snapshot{Version: SchemaVersion, StartedAt: r.started, Plugins: []Plugin{}}
	if r.opts.Ready != nil {
		snap.Ready = r.opts.Ready()
	}
	if r.opts.Plugins != nil {
		for _, p := range r.opts.Plugins() {
			p.Name = OneLine(p.Name, maxName)
			p.State = OneLine(p.State, maxName)
			p.Detail = OneLine(p.Detail, MaxDetail)
			p.NextRestart = copyTime(p.NextRestart)
			snap.Plugins = append(snap.Plugins, p)
		}
		slices.SortFunc(snap.Plugins, func(a, b Plugin) int {
			switch {
			case a.Name < b.Name:
				return -1
			case a.Name > b.Name:
				return 1
			}
			return 0
		})
	}
	snap.GeneratedAt = r.opts.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	snap.Heartbeats = make([]Heartbeat, 0, len(r.heartbeats))
	for _, h := range r.heartbeats {
		out := Heartbeat{
			Name: h.spec.Name, Frequency: h.spec.Frequency, Timezone: h.spec.Timezone, Check: h.spec.Check,
			State: h.state, Targets: make([]TargetState, 0, len(h.targets)), Beats: make([]Beat, 0, len(h.ring)),
		}
		if !h.next.IsZero() {
			next := h.next
			out.NextBeat = &next
		}
		for _, t := range h.targets {
			ts := t.state
			ts.LastAt, ts.LastSuccessAt, ts.LastDeliveredAt = timePtr(t.at), timePtr(t.success), timePtr(t.delivered)
			out.Targets = append(out.Targets, ts)
		}
		for i := range h.ring {
			out.Beats = append(out.Beats, h.beat(&r.tables, (h.head+i)%len(h.ring), r.loc))
		}
		snap.Heartbeats = append(snap.Heartbeats, out)
	}
	return snap
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// timePtr is a pointer to a copy of t; nil for the zero time.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Times are the timestamps of one heartbeat that metrics export.
type Times struct {
	Heartbeat string
	// Next is the next fire time; zero when none.
	Next time.Time
	// LastFire is when the last tick was due; zero before the first.
	LastFire time.Time
	Targets  []TargetTimes
}

// TargetTimes are the timestamps of one target of a heartbeat.
type TargetTimes struct {
	Target string
	// LastDelivered is the last success or fail signal the tool accepted;
	// zero when none yet.
	LastDelivered time.Time
}

// Times returns the timestamps of every heartbeat, in config order: only
// heartbeats and targets in force, so series of removed ones end.
func (r *Recorder) Times() []Times {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Times, 0, len(r.heartbeats))
	for _, h := range r.heartbeats {
		t := Times{Heartbeat: h.spec.Name, Next: h.next, LastFire: h.lastFire, Targets: make([]TargetTimes, 0, len(h.targets))}
		for _, tg := range h.targets {
			t.Targets = append(t.Targets, TargetTimes{Target: tg.state.Name, LastDelivered: tg.delivered})
		}
		out = append(out, t)
	}
	return out
}
