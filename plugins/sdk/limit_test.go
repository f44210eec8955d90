package sdk

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBeatLimitsQueueInOrder(t *testing.T) {
	tests := []struct {
		name     string
		bound    int
		beats    int
		admitted int
	}{
		{"under the bound", 3, 2, 2},
		{"at the bound", 2, 2, 2},
		{"beyond the bound", 2, 5, 2},
		{"bound of one", 1, 4, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l beatLimits
			var order []int
			admitted := 0
			for i := range tt.beats {
				if ok, _ := l.admit("host", tt.bound, func() beatStep { order = append(order, i); return nil }); ok {
					admitted++
				}
			}
			if admitted != tt.admitted {
				t.Fatalf("%d admitted at once, want %d", admitted, tt.admitted)
			}
			if got, want := l.waiting(), tt.beats-tt.admitted; got != want {
				t.Fatalf("%d waiting, want %d", got, want)
			}
			// Each slot's end starts the oldest waiting beat, until none
			// waits; then the slots end.
			for range tt.admitted {
				for next := l.done("host"); next != nil; next = l.done("host") {
					next()
				}
			}
			want := make([]int, 0, tt.beats)
			for i := tt.admitted; i < tt.beats; i++ {
				want = append(want, i)
			}
			if !slices.Equal(order, want) {
				t.Errorf("waiting beats ran in order %v, want %v", order, want)
			}
			if len(l.keys) != 0 {
				t.Errorf("%d keys left once every beat ended", len(l.keys))
			}
		})
	}
}

// Under a steady load the queue never drains, and must not grow past the
// beats waiting in it.
func TestBeatLimitsQueueStaysBounded(t *testing.T) {
	var l beatLimits
	ran := 0
	run := func() beatStep { ran++; return nil }
	if ok, _ := l.admit("host", 1, run); !ok {
		t.Fatal("the first beat waited")
	}
	for range 10 {
		_, _ = l.admit("host", 1, run)
	}
	for range 100_000 {
		_, _ = l.admit("host", 1, run)
		l.done("host")()
	}
	q := l.keys["host"]
	if waiting := len(q.waiting) - q.head; waiting != 10 {
		t.Fatalf("%d waiting, want 10", waiting)
	}
	if cap(q.waiting) > 4096 {
		t.Errorf("the queue of 10 waiting beats holds room for %d", cap(q.waiting))
	}
	if ran != 100_000 {
		t.Errorf("%d beats ran, want 100000", ran)
	}
}

// limitTarget's instances share the bound named by their name's first
// letter: two beats at once. "a…" instances wait for gate; the others
// answer at once.
type limitTarget struct {
	gate chan struct{}

	mu         sync.Mutex
	running    int
	maxRunning map[string]int
	begun      []uint64
}

func (*limitTarget) Info() Info { return Info{Name: "limit", Signals: []Signal{SignalSuccess}} }

func (t *limitTarget) Configure(_ context.Context, req ConfigureRequest) (Instance, error) {
	return &limitInstance{key: req.Instance[:1], t: t}, nil
}

type limitInstance struct {
	key string
	t   *limitTarget
}

func (i *limitInstance) Describe() string                { return i.key }
func (i *limitInstance) BeatLimit(Beat) (key any, n int) { return i.key, 2 }

func (i *limitInstance) Beat(ctx context.Context, b Beat) (Result, error) {
	t := i.t
	t.mu.Lock()
	t.running++
	t.maxRunning[i.key] = max(t.maxRunning[i.key], t.running)
	t.begun = append(t.begun, b.Sequence)
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.running--
		t.mu.Unlock()
	}()
	if i.key != "a" {
		return Result{Detail: "at once"}, nil
	}
	select {
	case <-t.gate:
		return Result{Detail: fmt.Sprintf("#%d", b.Sequence)}, nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

func (t *limitTarget) started() []uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.begun)
}

// Beats beyond a Limited instance's bound wait, in order, without holding
// up beats of another bound; one cancelled, or whose deadline passes,
// while it waits is never delivered.
func TestBeatStreamHoldsBeatsBeyondTheBound(t *testing.T) {
	target := &limitTarget{gate: make(chan struct{}), maxRunning: map[string]int{}}
	srv := newServer(target, nil)
	c, _ := dialStream(t, srv)
	configureAll(t, c, "a-1", "a-2", "b-1")

	type answer struct {
		seq uint64
		res Result
		err error
	}
	answers := make(chan answer, 8)
	send := func(ctx context.Context, inst string, seq uint64) {
		go func() {
			res, err := c.Beat(ctx, inst, Beat{Signal: SignalSuccess, Sequence: seq})
			answers <- answer{seq, res, err}
		}()
	}
	long, cancelLong := context.WithTimeout(context.Background(), time.Minute)
	defer cancelLong()
	send(long, "a-1", 1)
	send(long, "a-2", 2)
	waitUntil(t, func() bool { return len(target.started()) == 2 }, "the first two beats did not start")
	cancelled, cancel := context.WithCancel(long)
	send(cancelled, "a-1", 3)
	waitUntil(t, func() bool { return srv.limits.waiting() == 1 }, "beat 3 does not wait")
	expiring, cancelExpiring := context.WithTimeout(long, 500*time.Millisecond)
	defer cancelExpiring()
	send(expiring, "a-2", 4)
	waitUntil(t, func() bool { return srv.limits.waiting() == 2 }, "beat 4 does not wait")
	send(long, "a-1", 5)
	waitUntil(t, func() bool { return srv.limits.waiting() == 3 }, "beat 5 does not wait")

	// Another bound is not held up.
	if res, err := c.Beat(long, "b-1", Beat{Signal: SignalSuccess, Sequence: 10}); err != nil || res.Detail != "at once" {
		t.Fatalf("beat of another bound: %+v, %v", res, err)
	}
	cancel()
	failed := map[uint64]bool{}
	for range 2 {
		a := <-answers
		if a.err == nil || KindOf(a.err) != KindTemporary {
			t.Fatalf("beat %d: %+v, want it failed as temporary", a.seq, a)
		}
		failed[a.seq] = true
	}
	if !failed[3] || !failed[4] {
		t.Fatalf("failed beats %v, want 3 (cancelled) and 4 (past its deadline)", failed)
	}
	// The plugin's deadline for beat 4 trails the caller's by the time the
	// beat took to reach it (under a millisecond): let that pass too.
	time.Sleep(time.Second)
	close(target.gate)
	got := map[uint64]string{}
	for range 3 {
		a := <-answers
		if a.err != nil {
			t.Fatalf("beat %d: %v", a.seq, a.err)
		}
		got[a.seq] = a.res.Detail
	}
	for _, seq := range []uint64{1, 2, 5} {
		if want := fmt.Sprintf("#%d", seq); got[seq] != want {
			t.Errorf("beat %d answered %q, want %q", seq, got[seq], want)
		}
	}
	begun := target.started()
	if !slices.Equal(begun[2:], []uint64{10, 5}) {
		t.Errorf("beats started in order %v, want 1 and 2, then 10 and 5 (3 and 4 never)", begun)
	}
	target.mu.Lock()
	if target.maxRunning["a"] > 2 {
		t.Errorf("%d beats of the bound of 2 ran at once", target.maxRunning["a"])
	}
	target.mu.Unlock()
	waitUntil(t, func() bool {
		srv.limits.mu.Lock()
		defer srv.limits.mu.Unlock()
		return len(srv.limits.keys) == 0
	}, "a bound with no beat left is still kept")
}

// A beat whose deadline passes while it waits is answered, when its turn
// comes, with words that say why it never started.
func TestWaitingBeatPastItsDeadline(t *testing.T) {
	srv := newServer(&limitTarget{gate: make(chan struct{}), maxRunning: map[string]int{}}, nil)
	sb := &streamBeat{id: 1, deadline: time.Now().Add(-time.Second), limit: 512}
	beats := &streamBeats{running: map[uint64]*streamBeat{}}
	beats.add(sb)
	inst := &limitInstance{key: "a", t: srv.target.(*limitTarget)}
	detail, code := srv.runStreamed(inst, true, sb, beats, nil)
	if !strings.Contains(detail, "deadline passed before it could start") || code.String() != "DeadlineExceeded" {
		t.Errorf("runStreamed = %q, %s", detail, code)
	}
}

type panickyLimit struct{ *streamInstance }

func (panickyLimit) BeatLimit(Beat) (any, int) { panic("no bound today") }

type panickyLimitTarget struct{ streamTarget }

func (t *panickyLimitTarget) Configure(_ context.Context, req ConfigureRequest) (Instance, error) {
	return panickyLimit{&streamInstance{name: req.Instance, t: &t.streamTarget}}, nil
}

// A BeatLimit that panics costs the beat its bound, not the plugin.
func TestPanickingBeatLimit(t *testing.T) {
	c, _ := dialStream(t, newServer(&panickyLimitTarget{}, nil))
	configureAll(t, c, "ok-1")
	res, err := c.Beat(context.Background(), "ok-1", Beat{Signal: SignalSuccess, Sequence: 3})
	if err != nil || res.Detail != "ok-1 #3" {
		t.Fatalf("Beat = %+v, %v", res, err)
	}
}

// hangTarget's instances share one bound of one beat; "hang" ignores its
// context until released, "ok" answers at once.
type hangTarget struct{ release chan struct{} }

func (*hangTarget) Info() Info { return Info{Name: "hang", Signals: []Signal{SignalSuccess}} }

func (t *hangTarget) Configure(_ context.Context, req ConfigureRequest) (Instance, error) {
	return &hangInstance{name: req.Instance, t: t}, nil
}

type hangInstance struct {
	name string
	t    *hangTarget
}

func (i *hangInstance) Describe() string                { return i.name }
func (i *hangInstance) BeatLimit(Beat) (key any, n int) { return "one host", 1 }

func (i *hangInstance) Beat(context.Context, Beat) (Result, error) {
	if i.name == "hang" {
		<-i.t.release
	}
	return Result{Detail: i.name}, nil
}

// A bounded Beat that overruns its context gives its place up when the
// context ends: the beat waiting behind it is delivered then, not when
// the hung one returns.
func TestOverrunBeatGivesItsSlotUp(t *testing.T) {
	target := &hangTarget{release: make(chan struct{})}
	defer close(target.release)
	srv := newServer(target, nil)
	c, _ := dialStream(t, srv)
	configureAll(t, c, "hang", "ok")
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	hung := make(chan error, 1)
	go func() {
		_, err := c.Beat(short, "hang", Beat{Signal: SignalSuccess})
		hung <- err
	}()
	waitUntil(t, func() bool {
		srv.limits.mu.Lock()
		defer srv.limits.mu.Unlock()
		return len(srv.limits.keys) == 1
	}, "the hung beat never started")
	long, cancelLong := context.WithTimeout(context.Background(), time.Minute)
	defer cancelLong()
	res, err := c.Beat(long, "ok", Beat{Signal: SignalSuccess})
	if err != nil || res.Detail != "ok" {
		t.Fatalf("the beat behind the hung one: %+v, %v", res, err)
	}
	if err := <-hung; err == nil {
		t.Error("the hung beat was answered as delivered")
	}
}

type sliceKeyTarget struct{ streamTarget }

type sliceKey struct{ *streamInstance }

func (sliceKey) BeatLimit(Beat) (any, int) { return []string{"not", "comparable"}, 1 }

func (t *sliceKeyTarget) Configure(_ context.Context, req ConfigureRequest) (Instance, error) {
	return sliceKey{&streamInstance{name: req.Instance, t: &t.streamTarget}}, nil
}

// A bound whose key cannot be compared costs the beats their bound, not
// the plugin.
func TestUncomparableLimitKey(t *testing.T) {
	srv := newServer(&sliceKeyTarget{}, nil)
	c, _ := dialStream(t, srv)
	configureAll(t, c, "ok-1")
	for i := range 3 {
		res, err := c.Beat(context.Background(), "ok-1", Beat{Signal: SignalSuccess, Sequence: uint64(i)})
		if err != nil || res.Detail != fmt.Sprintf("ok-1 #%d", i) {
			t.Fatalf("beat %d: %+v, %v", i, res, err)
		}
	}
	if !srv.badLimitKey.Load() {
		t.Error("the key was not reported")
	}
	if n := srv.limits.waiting(); n != 0 {
		t.Errorf("%d beats wait", n)
	}
}
