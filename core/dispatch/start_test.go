package dispatch

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// The two ways a beat is delivered: Deliver, waiting on the caller's
// goroutine, and Start, driven by the answers of a deliverer that starts
// beats without waiting. Every behaviour must be the same.
var deliverModes = []string{"wait", "start"}

// startingDeliverer is a fakeDeliverer that also starts beats without
// waiting, as the plugin host does: each on a goroutine of its own under
// the attempt's deadline, answered through done, cut by cancelling it.
// refuse makes it decline, as the host does before a plugin runs.
type startingDeliverer struct {
	*fakeDeliverer
	refuse  func(instance string) bool
	started atomic.Int32
}

func (s *startingDeliverer) StartBeat(instance string, b sdk.Beat, deadline time.Time, done func(sdk.Result, error)) (func(), bool) {
	if s.refuse != nil && s.refuse(instance) {
		return nil, false
	}
	s.started.Add(1)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	go func() {
		defer cancel()
		done(s.fakeDeliverer.Beat(ctx, instance, b))
	}()
	return cancel, true
}

// dispatcherFor is newDispatcher over f, starting beats in mode "start".
func dispatcherFor(mode string, f *fakeDeliverer, log *lineLog) *Dispatcher {
	if mode == "start" {
		return newDispatcher(&startingDeliverer{fakeDeliverer: f}, log)
	}
	return newDispatcher(f, log)
}

// deliverWith delivers b as mode does and returns the outcomes; Start's
// done must come once, within failsafe. Start is given an hour when the
// deadline is zero, as the scheduler always has one.
func deliverWith(t *testing.T, mode string, d *Dispatcher, ctx context.Context, b sdk.Beat, targets []Target, deadline time.Time) []Outcome {
	t.Helper()
	if mode == "wait" {
		return d.Deliver(ctx, b, targets, deadline)
	}
	if deadline.IsZero() {
		deadline = time.Now().Add(time.Hour)
	}
	got := make(chan []Outcome, 2)
	d.Start(ctx, b, targets, deadline, func(out []Outcome) { got <- out })
	select {
	case out := <-got:
		select {
		case <-got:
			t.Fatal("Start's done was called twice")
		case <-time.After(10 * time.Millisecond):
		}
		return out
	case <-time.After(failsafe):
		t.Fatal("Start's done was never called")
	}
	return nil
}

// A started beat holds no goroutine while it waits: the deliverer starts
// it, and its answer ends it, outcomes in target order.
func TestStartUsesTheStarter(t *testing.T) {
	f := &fakeDeliverer{beat: func(_ context.Context, instance string, _ sdk.Beat) (sdk.Result, error) {
		if instance == "bad" {
			return sdk.Result{}, sdk.NotFound(errors.New("no such check"))
		}
		return sdk.Result{Detail: "ok from " + instance}, nil
	}}
	s := &startingDeliverer{fakeDeliverer: f}
	log := newLineLog()
	d := newDispatcher(s, log)
	targets := []Target{{Name: "a", Policy: policy}, {Name: "bad", Policy: policy}, {Name: "c", Policy: policy}}
	out := deliverWith(t, "start", d, context.Background(), success(sdk.Beat{}), targets, time.Now().Add(time.Hour))
	if got := s.started.Load(); got != 3 {
		t.Errorf("%d beats started, want 3", got)
	}
	for i, want := range []string{"a", "bad", "c"} {
		if out[i].Target != want || out[i].Attempts != 1 || (want == "bad") != (out[i].Err != nil) {
			t.Errorf("outcome %d = %+v, want %s", i, out[i], want)
		}
	}
	if log.count("beat not delivered") != 1 || log.count("beat delivered") != 2 {
		t.Errorf("want one failure and two first deliveries logged:\n%s", log)
	}
}

// A beat the deliverer will not start goes as Deliver sends it.
func TestStartFallsBackToBeat(t *testing.T) {
	f := &fakeDeliverer{beat: func(ctx context.Context, instance string, _ sdk.Beat) (sdk.Result, error) {
		if _, ok := ctx.Deadline(); !ok {
			return sdk.Result{}, errors.New("no deadline")
		}
		return sdk.Result{Detail: "ok from " + instance}, nil
	}}
	s := &startingDeliverer{fakeDeliverer: f, refuse: func(instance string) bool { return instance == "cold" }}
	d := newDispatcher(s, nil)
	out := deliverWith(t, "start", d, context.Background(), success(sdk.Beat{}), []Target{{Name: "cold", Policy: policy}, {Name: "warm", Policy: policy}}, time.Now().Add(time.Hour))
	if out[0].Err != nil || out[0].Result.Detail != "ok from cold" || out[1].Err != nil || out[1].Result.Detail != "ok from warm" {
		t.Errorf("outcomes %+v", out)
	}
	if got := s.started.Load(); got != 1 {
		t.Errorf("%d beats started, want 1 (warm)", got)
	}
}

// When ctx ends (the shutdown's grace is over), an attempt in flight is
// cut and the outcome handed over at once, as Deliver returns.
func TestStartCutByContext(t *testing.T) {
	for _, refuse := range []bool{false, true} {
		name := map[bool]string{false: "started", true: "waiting"}[refuse]
		t.Run(name, func(t *testing.T) {
			f := &fakeDeliverer{beat: func(ctx context.Context, _ string, _ sdk.Beat) (sdk.Result, error) {
				<-ctx.Done()
				return sdk.Result{}, sdk.Temporary(ctx.Err())
			}}
			s := &startingDeliverer{fakeDeliverer: f, refuse: func(string) bool { return refuse }}
			d := newDispatcher(s, nil)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			start := time.Now()
			out := deliverWith(t, "start", d, ctx, success(sdk.Beat{}), []Target{{Name: "t", Policy: policy}}, time.Now().Add(time.Hour))
			if out[0].Err == nil || !strings.Contains(out[0].Err.Error(), "canceled") || out[0].Attempts != 1 {
				t.Errorf("outcome %+v, want one attempt, cancelled", out[0])
			}
			if took := time.Since(start); took > failsafe/2 {
				t.Errorf("took %s to end after the cancel", took)
			}
		})
	}
}
