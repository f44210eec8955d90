package sdk

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// startedBeat is what StartBeat's done received.
type startedBeat struct {
	res   Result
	err   error
	calls int
	at    time.Time
}

// startBeat starts a beat and returns a function that waits for its
// outcome (at most a minute) and, with settle, a moment more, failing the
// test if done ran other than once.
func startBeat(t *testing.T, c Client, instance string, b Beat, deadline time.Time) (cut func(), wait func(settle bool) startedBeat) {
	t.Helper()
	var mu sync.Mutex
	var got startedBeat
	ended := make(chan struct{})
	cut, ok := c.(BeatStarter).StartBeat(instance, b, deadline, func(res Result, err error) {
		mu.Lock()
		defer mu.Unlock()
		got.calls++
		if got.calls == 1 {
			got.res, got.err, got.at = res, err, time.Now()
			close(ended)
		}
	})
	if !ok {
		t.Fatalf("StartBeat(%s) was refused", instance)
	}
	return cut, func(settle bool) startedBeat {
		t.Helper()
		select {
		case <-ended:
		case <-time.After(time.Minute):
			t.Fatalf("StartBeat(%s): done was never called", instance)
		}
		if settle {
			// A second call would come from another answer, a cut or the
			// deadline: give them a moment.
			time.Sleep(50 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		if got.calls != 1 {
			t.Errorf("StartBeat(%s): done called %d times, want once", instance, got.calls)
		}
		return got
	}
}

// A beat is started without waiting only once a stream has answered; then
// every one gets its own answer, with the kinds a Beat call returns.
func TestStartBeatAnswers(t *testing.T) {
	target := &streamTarget{}
	c, _ := dialStream(t, newServer(target, nil))
	configureAll(t, c, "ok-1", "ok-2", "permanent", "notfound")
	deadline := time.Now().Add(time.Minute)
	if _, ok := c.(BeatStarter).StartBeat("ok-1", Beat{Signal: SignalSuccess}, deadline, func(Result, error) {
		t.Error("done called for a beat that was refused")
	}); ok {
		t.Fatal("StartBeat was taken before any stream was open")
	}
	if _, err := c.Beat(context.Background(), "ok-1", Beat{Signal: SignalSuccess}); err != nil {
		t.Fatal(err)
	}
	const n = 200
	waits := make([]func(bool) startedBeat, n)
	for i := range n {
		_, waits[i] = startBeat(t, c, fmt.Sprintf("ok-%d", 1+i%2), Beat{Signal: SignalSuccess, Sequence: uint64(i)}, deadline)
	}
	for _, wait := range waits {
		wait(false)
	}
	// Every done has been called; any second call comes in a moment.
	time.Sleep(50 * time.Millisecond)
	for i, wait := range waits {
		got := wait(false)
		if want := fmt.Sprintf("ok-%d #%d", 1+i%2, i); got.err != nil || got.res.Detail != want {
			t.Errorf("beat %d: %+v, %v; want %q", i, got.res, got.err, want)
		}
	}
	// With every beat answered, no deadline is left to wake the stream.
	if n := streamExpiries(c); n != 0 {
		t.Errorf("%d deadlines kept after every beat was answered", n)
	}
	for _, name := range []string{"permanent", "notfound"} {
		t.Run(name, func(t *testing.T) {
			_, wait := startBeat(t, c, name, Beat{Signal: SignalSuccess}, deadline)
			got := wait(true)
			_, want := c.Beat(context.Background(), name, Beat{Signal: SignalSuccess})
			if got.err == nil || want == nil || KindOf(got.err) != KindOf(want) || got.err.Error() != want.Error() {
				t.Errorf("started: %v (%s); Beat: %v (%s)", got.err, KindOf(got.err), want, KindOf(want))
			}
		})
	}
}

func streamExpiries(c Client) int {
	s := c.(*grpcClient).streams
	s.mu.Lock()
	st := s.stream
	s.mu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.expiries)
}

// A started beat whose tool hangs ends at its deadline with the deadline
// error of a Beat call, the plugin stops delivering it, and the stream goes
// on serving.
func TestStartBeatDeadline(t *testing.T) {
	target := &streamTarget{}
	c, _ := dialStream(t, newServer(target, nil))
	configureAll(t, c, "hang", "ok-1")
	if _, err := c.Beat(context.Background(), "ok-1", Beat{Signal: SignalSuccess}); err != nil {
		t.Fatal(err)
	}
	// The later deadline first: the timer must be moved to the earlier one.
	start := time.Now()
	_, waitLate := startBeat(t, c, "hang", Beat{Signal: SignalSuccess}, start.Add(400*time.Millisecond))
	_, waitEarly := startBeat(t, c, "hang", Beat{Signal: SignalSuccess}, start.Add(200*time.Millisecond))
	early, late := waitEarly(true), waitLate(true)
	for name, got := range map[string]startedBeat{"early": early, "late": late} {
		if got.err == nil || KindOf(got.err) != KindTemporary || !strings.Contains(got.err.Error(), "deadline") {
			t.Errorf("%s: err = %v (%s), want a temporary deadline error", name, got.err, KindOf(got.err))
		}
	}
	if early.at.Before(start.Add(200*time.Millisecond)) || late.at.Before(start.Add(400*time.Millisecond)) {
		t.Errorf("ended before the deadline: early after %s, late after %s", early.at.Sub(start), late.at.Sub(start))
	}
	waitUntil(t, func() bool { return target.canceled.Load() == 2 }, "the plugin's beats were not canceled")
	if streamsWaiting(c) != 0 {
		t.Errorf("%d beats still waiting", streamsWaiting(c))
	}
	_, wait := startBeat(t, c, "ok-1", Beat{Signal: SignalSuccess}, time.Now().Add(time.Minute))
	if got := wait(true); got.err != nil {
		t.Fatal(got.err)
	}
}

// cut ends a started beat at once, with a cancelled error, once, whether
// the plugin has it already (it stops delivering it) or not yet (it never
// hears of it); a cut after the answer changes nothing.
func TestStartBeatCut(t *testing.T) {
	target := &streamTarget{}
	c, _ := dialStream(t, newServer(target, nil))
	configureAll(t, c, "hang", "ok-1")
	if _, err := c.Beat(context.Background(), "ok-1", Beat{Signal: SignalSuccess}); err != nil {
		t.Fatal(err)
	}
	cut, wait := startBeat(t, c, "hang", Beat{Signal: SignalSuccess}, time.Now().Add(time.Minute))
	waitUntil(t, func() bool { return target.hanging.Load() == 1 }, "the beat never reached the plugin")
	cut()
	cut()
	if got := wait(true); got.err == nil || !strings.Contains(got.err.Error(), "cancel") {
		t.Errorf("err = %v, want a cancelled error", got.err)
	}
	waitUntil(t, func() bool { return target.canceled.Load() == 1 }, "the plugin's beat was not canceled")

	// Cut at once: most likely before the sender has sent it.
	cut, wait = startBeat(t, c, "hang", Beat{Signal: SignalSuccess}, time.Now().Add(time.Minute))
	cut()
	if got := wait(true); got.err == nil || !strings.Contains(got.err.Error(), "cancel") {
		t.Errorf("err = %v, want a cancelled error", got.err)
	}
	waitUntil(t, func() bool { return target.hanging.Load() == target.canceled.Load() }, "a cut beat still runs in the plugin")

	cut, wait = startBeat(t, c, "ok-1", Beat{Signal: SignalSuccess, Sequence: 3}, time.Now().Add(time.Minute))
	got := wait(true)
	cut()
	if got.err != nil || got.res.Detail != "ok-1 #3" {
		t.Errorf("%+v, %v", got.res, got.err)
	}
}

// When the plugin goes away, a started beat fails as temporary, and no
// beat is started on the broken stream.
func TestStartBeatStreamBreaks(t *testing.T) {
	target := &streamTarget{gate: make(chan struct{})}
	c, stop := dialStream(t, newServer(target, nil))
	configureAll(t, c, "gate", "ok-1")
	if _, err := c.Beat(context.Background(), "ok-1", Beat{Signal: SignalSuccess}); err != nil {
		t.Fatal(err)
	}
	_, wait := startBeat(t, c, "gate", Beat{Signal: SignalSuccess}, time.Now().Add(time.Minute))
	waitUntil(t, func() bool { return streamsWaiting(c) == 1 }, "the beat never reached the stream")
	stop()
	if got := wait(true); got.err == nil || KindOf(got.err) != KindTemporary {
		t.Fatalf("err = %v (%s), want temporary", got.err, KindOf(got.err))
	}
	if _, ok := c.(BeatStarter).StartBeat("ok-1", Beat{Signal: SignalSuccess}, time.Now().Add(time.Minute), func(Result, error) {
		t.Error("done called for a beat that was refused")
	}); ok {
		t.Error("StartBeat was taken on a broken stream")
	}
}

// When the core goes away, the plugin cuts the beats it is delivering,
// even one without a timeout.
func TestBeatStreamServerCutsBeatsWhenTheCoreGoes(t *testing.T) {
	target := &streamTarget{}
	c, stop := dialStream(t, newServer(target, nil))
	configureAll(t, c, "hang")
	go func() { _, _ = c.Beat(context.Background(), "hang", Beat{Signal: SignalSuccess}) }()
	waitUntil(t, func() bool { return target.hanging.Load() == 1 }, "the beat never reached the plugin")
	go stop()
	waitUntil(t, func() bool { return target.canceled.Load() == 1 }, "the plugin's beat was not cut when the core went away")
}

// Many first beats at once to a plugin without the stream all fall back
// to Beat calls, those that reached the stream before it broke included.
func TestBeatStreamFallsBackToUnaryUnderABurst(t *testing.T) {
	impl := &unaryOnly{s: newServer(&streamTarget{}, nil)}
	c, _ := dialStream(t, impl)
	configureAll(t, c, "ok-1")
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			res, err := c.Beat(context.Background(), "ok-1", Beat{Signal: SignalSuccess, Sequence: uint64(i)})
			if err == nil && res.Detail != fmt.Sprintf("ok-1 #%d", i) {
				err = fmt.Errorf("beat %d answered %q", i, res.Detail)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := impl.beats.Load(); got != n {
		t.Errorf("%d Beat calls, want %d", got, n)
	}
}
