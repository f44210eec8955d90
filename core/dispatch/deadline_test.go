package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// A deadline that is near or already past (a tick that fired late, or a
// heartbeat whose next beat is due at once) never leaves the first attempt
// without time: it gets minFirstWindow, within its own timeout. Retries
// still stop at the deadline.
func TestFirstAttemptGetsAUsableDeadline(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration // from now; negative: already past
		policy   Policy
	}{
		{name: "deadline already past", deadline: -time.Second, policy: Policy{Timeout: 5 * time.Second, Retries: 2, Backoff: time.Millisecond}},
		{name: "deadline a millisecond away", deadline: time.Millisecond, policy: Policy{Timeout: 5 * time.Second, Retries: 2, Backoff: time.Millisecond}},
		{name: "no timeout, deadline past", deadline: -time.Second, policy: Policy{Retries: 2, Backoff: time.Millisecond}},
	}
	for _, tc := range tests {
		for _, mode := range deliverModes {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				f := &fakeDeliverer{beat: func(ctx context.Context, _ string, _ sdk.Beat) (sdk.Result, error) {
					if err := ctx.Err(); err != nil {
						return sdk.Result{}, err
					}
					return sdk.Result{Detail: "ok"}, nil
				}}
				d := dispatcherFor(mode, f, nil)
				before := time.Now()
				out := deliverWith(t, mode, d, context.Background(), success(sdk.Beat{}), []Target{{Name: "t", Policy: tc.policy}}, before.Add(tc.deadline))
				if out[0].Err != nil || out[0].Attempts != 1 {
					t.Fatalf("outcome %+v; want delivered at the first attempt", out[0])
				}
				c := f.callsTo("t")
				if len(c) != 1 || c[0].deadline.Before(before.Add(minFirstWindow)) {
					t.Errorf("first attempt ran with deadline %v, want at least %s after %v", c, minFirstWindow, before)
				}
			})
		}
	}
}

// A deadline with time enough is kept: a hanging target is cut at the
// heartbeat's next beat, not at its own (longer) timeout.
func TestDeadlineWithTimeEnoughIsKept(t *testing.T) {
	for _, mode := range deliverModes {
		t.Run(mode, func(t *testing.T) {
			f := &fakeDeliverer{beat: func(ctx context.Context, _ string, _ sdk.Beat) (sdk.Result, error) {
				return sdk.Result{Detail: "ok"}, nil
			}}
			d := dispatcherFor(mode, f, nil)
			deadline := time.Now().Add(time.Hour)
			deliverWith(t, mode, d, context.Background(), success(sdk.Beat{}), []Target{{Name: "t", Policy: Policy{Timeout: 2 * time.Hour}}}, deadline)
			if c := f.callsTo("t"); len(c) != 1 || !c[0].deadline.Equal(deadline) {
				t.Errorf("calls %+v, want one under the heartbeat's deadline %v", c, deadline)
			}
		})
	}
}

// With a deadline already past, retries stay within the first attempt's
// window: no attempt may run past it.
func TestRetriesStayWithinTheWindowOfAPassedDeadline(t *testing.T) {
	for _, mode := range deliverModes {
		t.Run(mode, func(t *testing.T) {
			f := &fakeDeliverer{beat: func(context.Context, string, sdk.Beat) (sdk.Result, error) {
				return sdk.Result{}, sdk.Temporary(errors.New("503 Service Unavailable"))
			}}
			d := dispatcherFor(mode, f, nil)
			out := deliverWith(t, mode, d, context.Background(), success(sdk.Beat{}), []Target{{Name: "t", Policy: Policy{Timeout: time.Hour, Retries: 5, Backoff: time.Millisecond}}}, time.Now().Add(-time.Second))
			after := time.Now()
			if !strings.Contains(out[0].Err.Error(), "503") {
				t.Errorf("outcome %+v; want its error kept", out[0])
			}
			for i, c := range f.callsTo("t") {
				if c.deadline.After(after.Add(minFirstWindow)) {
					t.Errorf("attempt %d may run until %v, past the window of %s", i+1, c.deadline, minFirstWindow)
				}
			}
		})
	}
}

// A failure that goes on is logged as an error once, then again every
// remindEvery with its count; the recovery says how many beats failed.
func TestRepeatedFailureReminder(t *testing.T) {
	var fail bool
	f := &fakeDeliverer{beat: func(context.Context, string, sdk.Beat) (sdk.Result, error) {
		if fail {
			return sdk.Result{}, sdk.Temporary(errors.New("503 Service Unavailable"))
		}
		return sdk.Result{Detail: "200 OK"}, nil
	}}
	log := newLineLog()
	d := newDispatcher(f, log)
	now := time.Date(2026, 3, 16, 9, 0, 0, 0, time.UTC)
	d.now = func() time.Time { return now }
	deliver := func() {
		d.Deliver(context.Background(), success(sdk.Beat{}), []Target{{Name: "t", Policy: Policy{Timeout: time.Second}}}, time.Time{})
	}
	fail = true
	for i := 0; i < 100; i++ { // 100 beats, 30 s apart: 50 minutes
		deliver()
		now = now.Add(30 * time.Second)
	}
	if n := log.count("[ERROR]"); n != 1 {
		t.Fatalf("%d error lines for 100 equal failures within the hour, want 1:\n%s", n, log)
	}
	now = now.Add(15 * time.Minute)
	deliver()
	if n := log.count("beat still not delivered"); n != 1 || !strings.Contains(log.String(), "failures=101") {
		t.Fatalf("after an hour the failure is logged again with its count:\n%s", log)
	}
	fail = false
	deliver()
	if !strings.Contains(log.String(), "beat delivered again after failures") || !strings.Contains(log.String(), "failures=101 result") {
		t.Errorf("the recovery should give the count of failures:\n%s", log)
	}
}

// An error whose text differs only in numbers (a countdown, a duration)
// is the same condition: logged once.
func TestSameErrorNumbersAside(t *testing.T) {
	var n int
	f := &fakeDeliverer{beat: func(context.Context, string, sdk.Beat) (sdk.Result, error) {
		n++
		return sdk.Result{}, sdk.Temporary(fmt.Errorf("plugin hostile is not running; it is started again in %ds", 20-n))
	}}
	log := newLineLog()
	d := newDispatcher(f, log)
	for i := 0; i < 10; i++ {
		d.Deliver(context.Background(), success(sdk.Beat{}), []Target{{Name: "t", Policy: Policy{Timeout: time.Second}}}, time.Time{})
	}
	if got := log.count("[ERROR]"); got != 1 {
		t.Errorf("%d error lines for one condition, want 1:\n%s", got, log)
	}
	f.beat = func(context.Context, string, sdk.Beat) (sdk.Result, error) {
		return sdk.Result{}, sdk.Permanent(errors.New("plugin hostile is not running; it is started again in 3s"))
	}
	d.Deliver(context.Background(), success(sdk.Beat{}), []Target{{Name: "t", Policy: Policy{Timeout: time.Second}}}, time.Time{})
	if got := log.count("[ERROR]"); got != 2 {
		t.Errorf("a different kind is a new condition: %d error lines, want 2:\n%s", got, log)
	}
}
