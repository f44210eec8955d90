package status

import (
	"fmt"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// Every code names one word, and every word its own code.
func TestWordCodes(t *testing.T) {
	for c := range uint8(numWords) {
		w := word(c)
		got, ok := code(w)
		if !ok || got != c {
			t.Errorf("code(word(%d) = %q) = %d, %v; want %d", c, w, got, ok, c)
		}
	}
	if w := word(numWords); w != "" {
		t.Errorf("word(%d) = %q past the last code, want \"\"", numWords, w)
	}
	for _, w := range []string{"success", "start", "fail", "log", ResultDelivered, ResultFailed, ResultSkipped, "temporary", "permanent", "not_found", "rate_limited", "not_configured", OutcomeOK, OutcomeFailed, OutcomeDegraded, OutcomeCheckFailed, OutcomeSkipped} {
		if _, ok := code(w); !ok {
			t.Errorf("%q has no code", w)
		}
	}
}

// A beat read back from its entry is the beat filed, whatever it holds.
func TestEntryKeepsTheBeat(t *testing.T) {
	sched := time.Date(2026, 12, 5, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	started := time.Date(2026, 12, 5, 9, 0, 0, 1500, time.UTC)
	finished := started.Add(37 * time.Millisecond)
	exit := 3
	ok := Delivery{Target: "hc", Signal: "success", Result: ResultDelivered, Attempts: 1, DurationMS: 12.5, Detail: "OK"}
	odd := Delivery{Target: "custom", Signal: "fail", Result: ResultFailed, Kind: "a kind of its own", Attempts: 3, DurationMS: 900, Detail: "boom"}
	tests := []struct {
		name string
		beat Beat
	}{
		{"no delivery", Beat{Sequence: 1, Outcome: OutcomeSkipped, Deliveries: []Delivery{}}},
		{"one packed", Beat{Sequence: 2, Outcome: OutcomeOK, Deliveries: []Delivery{ok}}},
		{"packed, then more", Beat{Sequence: 3, Outcome: OutcomeDegraded, Deliveries: []Delivery{ok, odd, ok}}},
		{"first does not pack", Beat{Sequence: 4, Outcome: OutcomeFailed, Deliveries: []Delivery{odd, ok}}},
		{"with a check", Beat{Sequence: 5, Outcome: OutcomeCheckFailed, Check: &CheckResult{OK: false, Message: "exit 3", ExitCode: &exit, DurationMS: 4}, Deliveries: []Delivery{ok}}},
		{"attempts past int32", Beat{Sequence: 6, Outcome: OutcomeOK, Deliveries: []Delivery{{Target: "hc", Signal: "success", Result: ResultDelivered, Attempts: 1 << 40}}}},
		{"no detail", Beat{Sequence: 7, Outcome: OutcomeOK, Deliveries: []Delivery{{Target: "hc", Signal: "success", Result: ResultDelivered, Attempts: 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.beat
			in.ScheduledAt, in.StartedAt, in.FinishedAt = sched, started, finished
			var tb tables
			h := &hbState{}
			h.push(&tb, in, 4)
			got := h.beat(&tb, 0, time.UTC)
			if !reflect.DeepEqual(got, in) {
				t.Fatalf("read back\n%+v\nwant\n%+v", got, in)
			}
			if got.Check != nil && (got.Check == in.Check || got.Check.ExitCode == in.Check.ExitCode) {
				t.Error("the beat read back shares its check with the entry")
			}
			if len(got.Deliveries) > 0 {
				got.Deliveries[0].Detail = "changed"
				if again := h.beat(&tb, 0, time.UTC); reflect.DeepEqual(again, got) {
					t.Error("changing a beat read back changed the entry")
				}
			}
		})
	}
}

// A target that answers the same every beat has its answer kept once,
// however many beats the ring holds.
func TestRecorderSharesARepeatedDetail(t *testing.T) {
	r := newTestRecorder(5)
	r.Configure([]HeartbeatSpec{spec("hb", "hc")})
	for i := range 5 {
		rec := r.Begin("hb", uint64(i+1), time.Unix(int64(i), 0))
		detail := string([]byte("OK from the server")) // a new string each beat, as from a plugin
		rec.Deliver(Delivery{Target: "hc", Signal: "success", Result: ResultDelivered, Attempts: 1, Detail: detail})
		rec.Finish()
	}
	h := r.byName["hb"]
	if len(h.details) != 2 {
		t.Fatalf("the heartbeat keeps %d details for one answer: %q", len(h.details), h.details)
	}
	for i, e := range h.ring {
		if e.flags&packed == 0 || e.detail != 1 {
			t.Fatalf("beat %d does not name the one detail", i+1)
		}
	}
	if got := r.Snapshot().Heartbeats[0].Beats; len(got) != 5 || got[4].Deliveries[0].Detail != "OK from the server" {
		t.Fatalf("snapshot beats = %+v", got)
	}
}

// A ring entry holds no pointer, so the collector never scans a ring.
func TestEntryHoldsNoPointer(t *testing.T) {
	typ := reflect.TypeFor[entry]()
	for i := range typ.NumField() {
		switch f := typ.Field(i); f.Type.Kind() {
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Func, reflect.Chan, reflect.Struct, reflect.UnsafePointer:
			t.Errorf("entry.%s is a %s", f.Name, f.Type)
		}
	}
	if size := unsafe.Sizeof(entry{}); size > 56 {
		t.Errorf("an entry takes %d bytes, want at most 56", size)
	}
}

// Details no entry names any more go, so a target whose every answer
// differs keeps the ring's worth, not every answer ever; the beats read
// back keep theirs.
func TestRingDetailsStayBounded(t *testing.T) {
	const limit = 5
	var tb tables
	h := &hbState{}
	for i := range 1000 {
		h.push(&tb, Beat{Sequence: uint64(i), Deliveries: []Delivery{{Target: "hc", Signal: "fail", Result: ResultFailed, Kind: "temporary", Attempts: 1, Detail: fmt.Sprintf("503 at %d", i)}}}, limit)
		if len(h.details) > 2*limit+2 {
			t.Fatalf("after %d beats the heartbeat keeps %d details", i+1, len(h.details))
		}
		for j := range h.ring {
			slot := (h.head + j) % len(h.ring)
			seq := h.ring[slot].seq
			if h.ring[slot].flags&packed == 0 {
				t.Fatalf("after %d beats, beat %d is not packed", i+1, seq)
			}
			if got, want := h.beat(&tb, slot, time.UTC).Deliveries[0].Detail, fmt.Sprintf("503 at %d", seq); got != want {
				t.Fatalf("after %d beats, beat %d reads back %q, want %q", i+1, seq, got, want)
			}
		}
	}
}

// A scheduled time that does not pack (a zone past the table's, the zero
// time) reads back as filed; the slot's extra goes when a plain beat
// takes the slot.
func TestEntryUnpackedScheduledTime(t *testing.T) {
	var tb tables
	h := &hbState{}
	var first *time.Location
	for i := range maxZones + 10 {
		zone := time.FixedZone(fmt.Sprintf("Z%d", i), i*60)
		if i == 0 {
			first = zone
		}
		in := Beat{Sequence: uint64(i), ScheduledAt: time.Date(2026, 12, 5, 10, 0, 0, i, zone), StartedAt: time.Unix(0, 0).UTC(), FinishedAt: time.Unix(0, 0).UTC(), Deliveries: []Delivery{}}
		h.push(&tb, in, 1)
		if got := h.beat(&tb, 0, time.UTC); !reflect.DeepEqual(got, in) {
			t.Fatalf("zone %d: read back %+v, want %+v", i, got, in)
		}
	}
	if len(h.extras) != 1 {
		t.Fatalf("extras = %d, want the one of the last beat, whose zone has no index", len(h.extras))
	}
	zero := Beat{Sequence: 1, StartedAt: time.Unix(0, 0).UTC(), FinishedAt: time.Unix(0, 0).UTC(), Deliveries: []Delivery{}}
	h.push(&tb, zero, 1)
	if got := h.beat(&tb, 0, time.UTC); !got.ScheduledAt.IsZero() {
		t.Errorf("the zero time reads back as %v", got.ScheduledAt)
	}
	plain := Beat{Sequence: 2, ScheduledAt: time.Unix(5, 0).In(first), Deliveries: []Delivery{}}
	h.push(&tb, plain, 1)
	if len(h.extras) != 0 {
		t.Errorf("the slot's extra stayed after a plain beat took the slot")
	}
}
