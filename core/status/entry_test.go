package status

import (
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.beat
			in.ScheduledAt, in.StartedAt, in.FinishedAt = sched, started, finished
			e := pack(in)
			got := e.beat(time.UTC)
			if !reflect.DeepEqual(got, in) {
				t.Fatalf("read back\n%+v\nwant\n%+v", got, in)
			}
			if got.Check != nil && (got.Check == in.Check || got.Check.ExitCode == in.Check.ExitCode) {
				t.Error("the beat read back shares its check with the entry")
			}
			if len(got.Deliveries) > 0 {
				got.Deliveries[0].Detail = "changed"
				if again := e.beat(time.UTC); reflect.DeepEqual(again, got) {
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
	first := unsafe.StringData(h.ring[0].first.detail)
	for i, e := range h.ring {
		if !e.packed || unsafe.StringData(e.first.detail) != first {
			t.Fatalf("beat %d keeps its own copy of the detail", i+1)
		}
	}
	if got := r.Snapshot().Heartbeats[0].Beats; len(got) != 5 || got[4].Deliveries[0].Detail != "OK from the server" {
		t.Fatalf("snapshot beats = %+v", got)
	}
}
