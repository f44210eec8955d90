package status

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// fakeClock advances one second at every reading.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

func newTestRecorder(maxBeats int) *Recorder {
	c := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	return NewRecorder(Options{MaxBeats: maxBeats, Now: c.now})
}

func spec(name string, targets ...string) HeartbeatSpec {
	s := HeartbeatSpec{Name: name, Frequency: "every 1 minute"}
	for _, t := range targets {
		s.Targets = append(s.Targets, TargetSpec{Name: t, Plugin: "http", Description: "POST https://example.com/…abcd"})
	}
	return s
}

// footprint counts what the recorder retains: beats, deliveries and the
// bytes of every string it holds.
func footprint(r *Recorder) (entries, bytes int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range r.heartbeats {
		bytes += len(h.spec.Name) + len(h.spec.Frequency) + len(h.spec.Timezone) + len(h.spec.Check) + len(h.state)
		for _, t := range h.targets {
			s := t.state
			bytes += len(s.Name) + len(s.Plugin) + len(s.Description) + len(s.LastSignal) + len(s.LastResult) + len(s.LastKind) + len(s.LastDetail)
		}
		for i := range h.ring {
			b := h.beat(&r.tables, i, r.loc)
			entries++
			bytes += len(b.Outcome)
			if b.Check != nil {
				bytes += len(b.Check.Message)
			}
			for _, d := range b.Deliveries {
				entries++
				bytes += len(d.Target) + len(d.Signal) + len(d.Result) + len(d.Kind) + len(d.Detail)
			}
		}
	}
	return entries, bytes
}

// beat records one beat with a check and start + result signals to each
// target; every detail is long and different, as a hostile tool's answers.
func beat(r *Recorder, name string, seq uint64, targets []string) {
	b := r.Begin(name, seq, time.Unix(int64(seq), 0))
	for _, t := range targets {
		b.Deliver(Delivery{Target: t, Signal: "start", Result: ResultDelivered, Attempts: 1, Detail: "200 OK"})
	}
	b.Check(CheckResult{OK: seq%3 != 0, Message: fmt.Sprintf("check %d: %s", seq, strings.Repeat("x", 1000))})
	for i, t := range targets {
		d := Delivery{Target: t, Signal: "success", Result: ResultDelivered, Attempts: 1}
		if (int(seq)+i)%2 == 0 {
			d.Result, d.Kind, d.Detail = ResultFailed, "temporary", fmt.Sprintf("503 %d %s", seq, strings.Repeat("busy\n", 200))
		}
		b.Deliver(d)
	}
	b.Finish()
}

func TestRecorderMemoryFlatOverALongRun(t *testing.T) {
	r := newTestRecorder(0)
	targets := []string{"hc", "kuma", "web"}
	r.Configure([]HeartbeatSpec{spec("svc", targets...), spec("other", "hc")})
	var entries1k, bytes1k int
	for seq := uint64(1); seq <= 100_000; seq++ {
		beat(r, "svc", seq, targets)
		if seq%7 == 0 {
			r.Skipped("other", seq, time.Unix(int64(seq), 0))
		} else {
			beat(r, "other", seq, []string{"hc"})
		}
		if seq == 1000 {
			entries1k, bytes1k = footprint(r)
		}
	}
	entries, bytes := footprint(r)
	// Every detail differs in length by its sequence number: the bytes
	// may differ by a few digits per string, never grow with the run.
	if entries != entries1k || bytes > bytes1k+bytes1k/10 {
		t.Errorf("retained %d entries, %d bytes after 100k beats; %d entries, %d bytes after 1k: memory grows", entries, bytes, entries1k, bytes1k)
	}
	// 60 beats of svc with 6 deliveries each, 60 of other with at most 2.
	if max := MaxBeats*(1+6) + MaxBeats*(1+2); entries > max {
		t.Errorf("retained %d entries, want at most %d", entries, max)
	}
	snap := r.Snapshot()
	for _, h := range snap.Heartbeats {
		if len(h.Beats) != MaxBeats {
			t.Fatalf("%s keeps %d beats, want %d", h.Name, len(h.Beats), MaxBeats)
		}
		// Oldest first, the newest is the last recorded.
		for i := 1; i < len(h.Beats); i++ {
			if h.Beats[i].Sequence != h.Beats[i-1].Sequence+1 {
				t.Fatalf("%s: beat %d has sequence %d after %d", h.Name, i, h.Beats[i].Sequence, h.Beats[i-1].Sequence)
			}
		}
		if last := h.Beats[len(h.Beats)-1].Sequence; last != 100_000 {
			t.Errorf("%s: newest beat %d, want 100000", h.Name, last)
		}
		for _, b := range h.Beats {
			if b.Check != nil && len(b.Check.Message) > MaxDetail {
				t.Fatalf("check message of %d bytes kept", len(b.Check.Message))
			}
			for _, d := range b.Deliveries {
				if len(d.Detail) > MaxDetail || strings.ContainsAny(d.Detail, "\n\r") {
					t.Fatalf("detail kept as %q", d.Detail)
				}
			}
		}
	}
}

func TestRecorderOutcomesAndStates(t *testing.T) {
	ok := func(target, signal string) Delivery {
		return Delivery{Target: target, Signal: signal, Result: ResultDelivered, Attempts: 1}
	}
	failed := func(target, signal string) Delivery {
		return Delivery{Target: target, Signal: signal, Result: ResultFailed, Kind: "temporary", Attempts: 3, Detail: "503 Service Unavailable"}
	}
	skipped := func(target, signal string) Delivery {
		return Delivery{Target: target, Signal: signal, Result: ResultSkipped}
	}
	tests := []struct {
		name       string
		check      *CheckResult
		deliveries []Delivery
		outcome    string
		state      string
	}{
		{"all delivered", nil, []Delivery{ok("a", "success"), ok("b", "success")}, OutcomeOK, StateOK},
		{"one failed", nil, []Delivery{ok("a", "success"), failed("b", "success")}, OutcomeDegraded, StateDegraded},
		{"all failed", nil, []Delivery{failed("a", "success"), failed("b", "success")}, OutcomeFailed, StateFailing},
		{"start failed, result delivered", &CheckResult{OK: true}, []Delivery{failed("a", "start"), ok("a", "success")}, OutcomeOK, StateOK},
		{"check failed, fail delivered", &CheckResult{OK: false, Message: "connection refused"}, []Delivery{ok("a", "start"), ok("a", "fail"), ok("b", "fail")}, OutcomeCheckFailed, StateFailing},
		{"check failed, fail failed everywhere", &CheckResult{OK: false}, []Delivery{failed("a", "fail")}, OutcomeFailed, StateFailing},
		{"check failed, one fail failed", &CheckResult{OK: false}, []Delivery{ok("a", "fail"), failed("b", "fail")}, OutcomeCheckFailed, StateFailing},
		{"signal not taken", nil, []Delivery{skipped("a", "start"), ok("a", "success"), skipped("b", "success")}, OutcomeOK, StateOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestRecorder(0)
			r.Configure([]HeartbeatSpec{spec("svc", "a", "b")})
			if got := r.Snapshot().Heartbeats[0].State; got != StatePending {
				t.Fatalf("state before any beat: %q, want pending", got)
			}
			b := r.Begin("svc", 1, time.Unix(100, 0))
			if tt.check != nil {
				b.Check(*tt.check)
			}
			for _, d := range tt.deliveries {
				b.Deliver(d)
			}
			b.Finish()
			h := r.Snapshot().Heartbeats[0]
			if len(h.Beats) != 1 || h.Beats[0].Outcome != tt.outcome || h.State != tt.state {
				t.Fatalf("got %d beats, outcome %q, state %q; want outcome %q, state %q", len(h.Beats), h.Beats[0].Outcome, h.State, tt.outcome, tt.state)
			}
			got := h.Beats[0]
			if len(got.Deliveries) != len(tt.deliveries) || !got.ScheduledAt.Equal(time.Unix(100, 0)) || got.FinishedAt.Before(got.StartedAt) {
				t.Errorf("beat recorded as %+v", got)
			}
			if (tt.check != nil) != (got.Check != nil) {
				t.Errorf("check recorded as %+v", got.Check)
			}
		})
	}
}

func TestRecorderTargetState(t *testing.T) {
	r := newTestRecorder(0)
	r.Configure([]HeartbeatSpec{spec("svc", "a")})
	b := r.Begin("svc", 1, time.Unix(1, 0))
	b.Deliver(Delivery{Target: "a", Signal: "success", Result: ResultDelivered, Detail: "200 OK"})
	b.Finish()
	first := r.Snapshot().Heartbeats[0].Targets[0]
	if first.LastResult != ResultDelivered || first.LastSuccessAt == nil || first.LastDeliveredAt == nil || first.LastAt == nil || first.LastDetail != "200 OK" {
		t.Fatalf("after a delivered success: %+v", first)
	}
	b = r.Begin("svc", 2, time.Unix(2, 0))
	b.Deliver(Delivery{Target: "a", Signal: "fail", Result: ResultDelivered})
	b.Deliver(Delivery{Target: "a", Signal: "success", Result: ResultFailed, Kind: "not_found", Detail: "404 Not Found"})
	b.Finish()
	got := r.Snapshot().Heartbeats[0].Targets[0]
	switch {
	case got.LastResult != ResultFailed || got.LastKind != "not_found" || got.LastDetail != "404 Not Found" || got.LastSignal != "success":
		t.Errorf("after a failure: %+v", got)
	case !got.LastSuccessAt.Equal(*first.LastSuccessAt):
		t.Errorf("a failure moved the last success from %v to %v", first.LastSuccessAt, got.LastSuccessAt)
	case !got.LastDeliveredAt.After(*first.LastDeliveredAt):
		t.Errorf("a delivered fail signal did not move the last delivery: %v", got.LastDeliveredAt)
	}
}

func TestRecorderSkippedAndPlanned(t *testing.T) {
	r := newTestRecorder(0)
	r.Configure([]HeartbeatSpec{spec("svc", "a")})
	next := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	r.Planned("svc", next, true)
	b := r.Begin("svc", 1, time.Unix(1, 0))
	r.Skipped("svc", 2, time.Unix(2, 0))
	b.Deliver(Delivery{Target: "a", Signal: "success", Result: ResultDelivered})
	b.Finish()
	h := r.Snapshot().Heartbeats[0]
	if h.NextBeat == nil || !h.NextBeat.Equal(next) {
		t.Errorf("next beat %v, want %v", h.NextBeat, next)
	}
	if len(h.Beats) != 2 || h.Beats[0].Outcome != OutcomeSkipped || h.Beats[0].Sequence != 2 || h.Beats[1].Outcome != OutcomeOK {
		t.Fatalf("beats %+v: want the skipped tick, then the beat that finished", h.Beats)
	}
	if h.Beats[0].Deliveries == nil {
		t.Error("a skipped beat's deliveries are null, not []")
	}
	// A skip does not hide the state of the last beat that ran.
	r.Skipped("svc", 3, time.Unix(3, 0))
	if s := r.Snapshot().Heartbeats[0].State; s != StateOK {
		t.Errorf("state after a skip: %q, want ok", s)
	}
	times := r.Times()
	if len(times) != 1 || !times[0].Next.Equal(next) || !times[0].LastFire.Equal(time.Unix(3, 0)) || times[0].Targets[0].LastDelivered.IsZero() {
		t.Errorf("times %+v", times)
	}
	r.Planned("svc", time.Time{}, false)
	if h := r.Snapshot().Heartbeats[0]; h.NextBeat != nil {
		t.Errorf("a heartbeat no longer scheduled has next beat %v", h.NextBeat)
	}
}

func TestRecorderReload(t *testing.T) {
	r := newTestRecorder(0)
	r.Configure([]HeartbeatSpec{spec("kept", "a", "b"), spec("removed", "a"), spec("old-name", "a")})
	for _, name := range []string{"kept", "removed", "old-name"} {
		b := r.Begin(name, 1, time.Unix(1, 0))
		b.Deliver(Delivery{Target: "a", Signal: "success", Result: ResultDelivered})
		b.Deliver(Delivery{Target: "b", Signal: "success", Result: ResultDelivered})
		b.Finish()
	}
	inFlight := r.Begin("removed", 2, time.Unix(2, 0))
	changed := spec("kept", "a", "b")
	changed.Targets[1].Plugin = "log" // b now is another kind of target
	changed.Frequency = "every 2 minutes"
	r.Configure([]HeartbeatSpec{spec("new-name", "a"), changed})
	inFlight.Deliver(Delivery{Target: "a", Signal: "success", Result: ResultDelivered})
	inFlight.Finish()

	snap := r.Snapshot()
	var names []string
	for _, h := range snap.Heartbeats {
		names = append(names, h.Name)
	}
	if strings.Join(names, ",") != "new-name,kept" {
		t.Fatalf("heartbeats after reload: %v, want new-name,kept (config order)", names)
	}
	fresh, kept := snap.Heartbeats[0], snap.Heartbeats[1]
	if fresh.State != StatePending || len(fresh.Beats) != 0 || fresh.Targets[0].LastAt != nil {
		t.Errorf("a renamed heartbeat does not start fresh: %+v", fresh)
	}
	if len(kept.Beats) != 1 || kept.Frequency != "every 2 minutes" || kept.State != StateOK {
		t.Errorf("a kept heartbeat lost its history or kept its old definition: %+v", kept)
	}
	if kept.Targets[0].LastAt == nil || kept.Targets[1].LastAt != nil || kept.Targets[1].Plugin != "log" {
		t.Errorf("targets after reload: %+v; want a's result kept, b (another plugin now) fresh", kept.Targets)
	}
	if len(r.Times()) != 2 {
		t.Errorf("times of removed heartbeats remain: %+v", r.Times())
	}
}

func TestRecorderBoundsStrings(t *testing.T) {
	r := newTestRecorder(0)
	long := strings.Repeat("é", 1000)
	s := spec("svc\nforged", "a")
	s.Check = "GET https://example.com/\r\nX-Forged: 1 " + long
	s.Targets[0].Description = long
	r.Configure([]HeartbeatSpec{s})
	b := r.Begin("svc\nforged", 1, time.Unix(1, 0))
	b.Check(CheckResult{OK: false, Message: "line one\nline two\x1b[31m " + long})
	b.Deliver(Delivery{Target: "a", Signal: "fail", Result: ResultFailed, Kind: "temporary", Detail: "500\n\tforged log line\x00 " + long})
	b.Finish()
	snap := r.Snapshot()
	var all []string
	h := snap.Heartbeats[0]
	all = append(all, h.Name, h.Check, h.Targets[0].Description, h.Targets[0].LastDetail, h.Beats[0].Check.Message, h.Beats[0].Deliveries[0].Detail)
	for _, s := range all {
		if len(s) > MaxDetail || !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			t.Errorf("kept %q (%d bytes): want one line of at most %d bytes", s, len(s), MaxDetail)
		}
	}
	// Control characters become spaces, runs of them one space.
	if d := h.Beats[0].Deliveries[0].Detail; !strings.HasPrefix(d, "500 forged log line é") || !strings.HasSuffix(d, ellipsis) {
		t.Errorf("detail %q", d)
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"200 OK", 300, "200 OK"},
		{"a\nb\r\nc\td", 300, "a b c d"},
		{"  lead and trail  \n", 300, "lead and trail"},
		{"esc\x1b[31mred", 300, "esc [31mred"},
		{"bad \xff byte", 300, "bad \uFFFD byte"},
		{"abcdefghij", 8, "abcde…"},
		{"ééééé", 7, "éé…"},
		{"anything", 0, ""},
	}
	for _, tt := range tests {
		if got := OneLine(tt.in, tt.max); got != tt.want || len(got) > max(tt.max, 0) {
			t.Errorf("OneLine(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestRecorderConcurrentUse(t *testing.T) {
	r := newTestRecorder(10)
	r.Configure([]HeartbeatSpec{spec("a", "x", "y"), spec("b", "x")})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := []string{"a", "b"}[g%2]
			for seq := uint64(1); seq <= 500; seq++ {
				beat(r, name, seq, []string{"x", "y"})
				r.Skipped(name, seq, time.Unix(int64(seq), 0))
				r.Planned(name, time.Unix(int64(seq), 0), true)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 200 {
			snap := r.Snapshot()
			for _, h := range snap.Heartbeats {
				if len(h.Beats) > 10 {
					t.Errorf("%d beats kept, want at most 10", len(h.Beats))
					return
				}
				for j := range h.Beats {
					h.Beats[j].Deliveries = append(h.Beats[j].Deliveries, Delivery{Target: "mutated"})
				}
			}
			_ = r.Times()
			if i%50 == 0 {
				r.Configure([]HeartbeatSpec{spec("a", "x", "y"), spec("b", "x")})
			}
		}
	}()
	wg.Wait()
	for _, h := range r.Snapshot().Heartbeats {
		for _, b := range h.Beats {
			for _, d := range b.Deliveries {
				if d.Target == "mutated" {
					t.Fatal("a snapshot shares memory with the recorder")
				}
			}
		}
	}
}

func TestNilRecorder(t *testing.T) {
	var r *Recorder
	r.Configure([]HeartbeatSpec{spec("a")})
	r.Planned("a", time.Now(), true)
	r.Skipped("a", 1, time.Now())
	b := r.Begin("a", 1, time.Now())
	b.Check(CheckResult{})
	b.Deliver(Delivery{})
	b.Finish()
	b.Discard()
	if snap := r.Snapshot(); snap.Heartbeats == nil || snap.Plugins == nil || snap.Version != SchemaVersion {
		t.Errorf("snapshot of a nil recorder: %+v", snap)
	}
}

func TestBeginUnknownHeartbeat(t *testing.T) {
	r := newTestRecorder(0)
	r.Configure([]HeartbeatSpec{spec("a", "x")})
	if b := r.Begin("nope", 1, time.Now()); b != nil {
		t.Error("a beat of an unknown heartbeat is recorded")
	}
	b := r.Begin("a", 1, time.Now())
	b.Deliver(Delivery{Target: "x", Signal: "start", Result: ResultDelivered})
	b.Discard()
	b.Finish()
	h := r.Snapshot().Heartbeats[0]
	if len(h.Beats) != 0 || h.State != StatePending {
		t.Errorf("a discarded beat was filed: %+v", h)
	}
}

// The ring grows with the beats, never past its limit, and always holds
// the latest ones, oldest first.
func TestRingGrowsToItsLimit(t *testing.T) {
	const limit = 6
	for _, n := range []int{0, 1, 3, 4, 5, 6, 7, 13} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var h hbState
			var tb tables
			for i := range n {
				h.push(&tb, Beat{Sequence: uint64(i + 1)}, limit)
				if cap(h.ring) > limit {
					t.Fatalf("after %d beats the ring has room for %d, over its limit %d", i+1, cap(h.ring), limit)
				}
			}
			var got []uint64
			for i := range h.ring {
				got = append(got, h.ring[(h.head+i)%len(h.ring)].seq)
			}
			var want []uint64
			for seq := max(n-limit, 0) + 1; seq <= n; seq++ {
				want = append(want, uint64(seq))
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("ring holds %v, want %v", got, want)
			}
		})
	}
}

// A delivery reaches its own target's state whether the heartbeat's
// targets are few (scanned) or many (indexed), a repeated name counts
// once, and a reload that keeps a target keeps its last result.
func TestRecorderFindsTargets(t *testing.T) {
	for _, n := range []int{1, 3, mapTargetsFrom - 1, mapTargetsFrom, 3 * mapTargetsFrom} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var names []string
			for i := range n {
				names = append(names, fmt.Sprintf("t%d", i))
			}
			r := newTestRecorder(5)
			r.Configure([]HeartbeatSpec{spec("hb", append(names, names[0])...)})
			rec := r.Begin("hb", 1, time.Unix(0, 0))
			for i, name := range names {
				rec.Deliver(Delivery{Target: name, Signal: "success", Result: ResultDelivered, Attempts: 1, Detail: fmt.Sprint("answer ", i)})
			}
			rec.Finish()
			r.Configure([]HeartbeatSpec{spec("hb", names...)})
			got := r.Snapshot().Heartbeats[0].Targets
			if len(got) != n {
				t.Fatalf("%d targets, want %d", len(got), n)
			}
			for i, ts := range got {
				if ts.Name != names[i] || ts.LastDetail != fmt.Sprint("answer ", i) {
					t.Errorf("target %d: %s answered %q, want %s answered %q", i, ts.Name, ts.LastDetail, names[i], fmt.Sprint("answer ", i))
				}
			}
		})
	}
}
