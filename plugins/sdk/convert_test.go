package sdk

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	targetv1 "github.com/seed-e9b80cf6/heartbeat/plugins/sdk/proto/heartbeat/target/v1"
)

// The messages of a streamed beat, built in one allocation, say what the
// protobuf helpers would have said.
func TestBeatMessagesMatchTheProtoHelpers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		at      time.Time
		timeout time.Duration
	}{
		{"a nanosecond", time.Date(2026, 12, 5, 18, 0, 0, 1, time.UTC), time.Nanosecond},
		{"under a second", time.Date(2026, 12, 5, 18, 0, 0, 999_999_999, time.UTC), 999 * time.Millisecond},
		{"whole seconds", time.Date(2026, 12, 5, 18, 0, 1, 0, time.UTC), 2 * time.Second},
		{"seconds and a fraction", time.Date(2026, 12, 5, 18, 0, 0, 500_000_000, time.FixedZone("x", 3600)), 90*time.Second + 250*time.Millisecond},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 40, 123, time.UTC), time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := 3
			b := Beat{Heartbeat: "hb", Signal: SignalFail, Sequence: 7, ScheduledAt: tc.at, Message: "m", Log: []byte("l"), RunID: "r",
				ExitCode: &code, CheckLatency: time.Second, Attempt: 2, Schedule: Schedule{Cron: "* * * * *", Timezone: "UTC"}}
			m := newBeatMessages("inst", b)
			m.setTimeout(tc.timeout)
			want := &targetv1.StreamedBeat{
				Beat: &targetv1.BeatRequest{
					Instance: "inst", Heartbeat: "hb", Signal: targetv1.Signal_SIGNAL_FAIL, Sequence: 7,
					ScheduledAt: timestamppb.New(tc.at), Message: "m", Log: []byte("l"), RunId: "r",
					ExitCode: proto.Int32(3), CheckLatency: durationpb.New(time.Second), Attempt: 2,
					Schedule: &targetv1.Schedule{Cron: "* * * * *", Timezone: "UTC"},
				},
				Timeout: durationpb.New(tc.timeout),
			}
			if !proto.Equal(&m.streamed, want) {
				t.Errorf("got %v\nwant %v", &m.streamed, want)
			}
			if got := beatFromProto(m.streamed.GetBeat()); !got.ScheduledAt.Equal(tc.at) || got.Schedule != b.Schedule || *got.ExitCode != code {
				t.Errorf("read back as %+v", got)
			}
		})
	}
	m := newBeatMessages("inst", Beat{Signal: SignalSuccess})
	if m.req.ScheduledAt != nil || m.req.Schedule != nil || m.req.ExitCode != nil || m.req.CheckLatency != nil || m.streamed.Timeout != nil {
		t.Errorf("a beat without a time, schedule, exit code or timeout has them: %v", &m.streamed)
	}
}

// The deadlines come off the heap earliest first, whatever the order they
// went on in.
func TestExpiryHeapOrder(t *testing.T) {
	base := time.Now()
	for _, n := range []int{1, 2, 3, 10, 1000} {
		var h expiryHeap
		var want []time.Time
		for i := range n {
			at := base.Add(time.Duration(rand.IntN(100)) * time.Millisecond)
			h.push(expiring{at: at, id: uint64(i)})
			want = append(want, at)
		}
		slices.SortFunc(want, func(a, b time.Time) int { return a.Compare(b) })
		for i, w := range want {
			if got := h.pop(); !got.at.Equal(w) {
				t.Fatalf("n=%d: pop %d gave %v, want %v", n, i, got.at.Sub(base), w.Sub(base))
			}
		}
		if len(h) != 0 {
			t.Fatalf("n=%d: %d left", n, len(h))
		}
	}
}
