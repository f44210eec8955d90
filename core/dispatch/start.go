package dispatch

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Starter is a Deliverer that can also start a beat without waiting for
// it (the plugin host, sdk.BeatStarter): done gets the outcome once. ok is
// false when it cannot start this beat that way: nothing was sent and Beat
// is the way.
type Starter interface {
	StartBeat(instance string, b sdk.Beat, deadline time.Time, done func(sdk.Result, error)) (cut func(), ok bool)
}

// Start delivers b to every target as Deliver does, with the same
// deadline, retries and logs, but holds no goroutine while a target's
// plugin works on an attempt; done gets the outcomes, in the order given,
// once every target's is in. done runs on a goroutine that also delivers
// other answers, or on the caller's when nothing was sent: it must not
// block. Attempts the deliverer cannot start that way (and every one when
// it is no Starter, or without a deadline) run as Deliver's do, on a
// goroutine of their own; so do the waits before a retry.
func (d *Dispatcher) Start(ctx context.Context, b sdk.Beat, targets []Target, deadline time.Time, done func([]Outcome)) {
	if d.starter == nil || deadline.IsZero() || len(targets) == 0 {
		d.deliverAsync(ctx, b, targets, deadline, done)
		return
	}
	g := &beatGroup{d: d, done: done}
	g.out = g.one[:]
	if len(targets) > 1 {
		g.out = make([]Outcome, len(targets))
	}
	g.left.Store(int32(len(targets)))
	for i, t := range targets {
		dl := &g.first
		if i > 0 {
			dl = &delivery{}
		}
		d.startOne(ctx, b, t, deadline, g, i, dl)
	}
}

// beatGroup is one beat on its way to its targets: their outcomes, in
// the order given, and how many are still to come. A beat usually has one
// target; its outcome and delivery are then part of the group, which is
// all a beat's delivery allocates here.
type beatGroup struct {
	d     *Dispatcher
	done  func([]Outcome)
	out   []Outcome
	one   [1]Outcome
	left  atomic.Int32
	first delivery
}

// finish takes target i's outcome; the last one hands them all to done.
func (g *beatGroup) finish(i int, o Outcome) {
	g.d.report(o)
	g.out[i] = o
	if g.left.Add(-1) == 0 {
		g.done(g.out)
	}
}

// deliverAsync is Deliver on a goroutine of its own. A function of its
// own, so that only this path moves b to the heap.
func (d *Dispatcher) deliverAsync(ctx context.Context, b sdk.Beat, targets []Target, deadline time.Time, done func([]Outcome)) {
	go func() { done(d.Deliver(ctx, b, targets, deadline)) }()
}

// startOne begins delivering b to t, as dl, target i of g; g gets the
// outcome once.
func (d *Dispatcher) startOne(ctx context.Context, b sdk.Beat, t Target, deadline time.Time, g *beatGroup, i int, dl *delivery) {
	o := Outcome{Heartbeat: b.Heartbeat, Target: t.Name, Signal: b.Signal}
	if info, ok := d.deliverer.Info(t.instance()); ok && !info.Supports(b.Signal) {
		o.Skipped = true
		g.finish(i, o)
		return
	}
	start := time.Now()
	if least := start.Add(minFirstWindow); deadline.Before(least) {
		deadline = least
	}
	dl.d, dl.ctx, dl.b, dl.t, dl.instance = d, ctx, b, t, t.instance()
	dl.start, dl.deadline, dl.backoff, dl.o = start, deadline, t.Policy.Backoff, o
	dl.group, dl.index = g, i
	d.live.add(dl)
	dl.attempt()
}

// delivery is one beat to one target on its way, attempt by attempt: the
// loop of deliverOne, driven by the answers instead of a waiting goroutine.
type delivery struct {
	d        *Dispatcher
	ctx      context.Context
	t        Target
	instance string
	start    time.Time
	deadline time.Time
	// group gets the outcome, as its target index.
	group *beatGroup
	index int
	// watched, watchPrev and watchNext are the dispatcher's watcher's,
	// guarded by its lock: dl is on the list of deliveries cut when ctx
	// ends.
	watched              bool
	watchPrev, watchNext *delivery

	mu      sync.Mutex
	b       sdk.Beat
	backoff time.Duration
	o       Outcome
	// attemptAt is the deadline of the attempt in flight, if any (inFlight),
	// cut gives it up once it has been started, cancelled says ctx is done.
	attemptAt time.Time
	inFlight  bool
	cut       func()
	cancelled bool
	ended     bool
}

// attempt sends the next attempt: each under the target's timeout and the
// delivery's deadline, as deliverOne's are.
func (dl *delivery) attempt() {
	dl.mu.Lock()
	dl.o.Attempts++
	n := dl.o.Attempts
	dl.b.Attempt = n
	b := dl.b
	at := dl.deadline
	if timeout := dl.t.Policy.Timeout; timeout > 0 {
		// Without a timeout only the deadline bounds an attempt.
		if limit := time.Now().Add(timeout); limit.Before(at) {
			at = limit
		}
	}
	dl.attemptAt, dl.inFlight, dl.cut = at, true, nil
	dl.mu.Unlock()
	cut, ok := dl.d.starter.StartBeat(dl.instance, b, at, func(res sdk.Result, err error) { dl.answered(n, res, err) })
	if !ok {
		dl.beatAsync(n, b, at)
		return
	}
	dl.mu.Lock()
	current := dl.o.Attempts == n && dl.inFlight
	if current {
		dl.cut = cut
	}
	cancelled := current && dl.cancelled
	dl.mu.Unlock()
	if cancelled {
		// ctx ended while the attempt was being started.
		cut()
	}
}

// beatAsync sends attempt n as Deliver does, on a goroutine of its own. A
// method of its own, so that only this path moves b to the heap.
func (dl *delivery) beatAsync(n int, b sdk.Beat, at time.Time) {
	go func() {
		ctx, cancel := context.WithDeadline(dl.ctx, at)
		res, err := dl.d.deliverer.Beat(ctx, dl.instance, b)
		cancel()
		dl.answered(n, res, err)
	}()
}

// answered takes attempt n's outcome: the delivery ends, or the next
// attempt follows a backoff, as in deliverOne.
func (dl *delivery) answered(n int, res sdk.Result, err error) {
	dl.mu.Lock()
	if dl.ended || dl.o.Attempts != n || !dl.inFlight {
		dl.mu.Unlock()
		return
	}
	dl.inFlight, dl.cut = false, nil
	dl.o.Result, dl.o.Err = res, err
	now := time.Now()
	over := dl.ctx.Err() != nil || !now.Before(dl.deadline)
	if err != nil && !over && !now.Before(dl.attemptAt) {
		dl.o.Err = timeoutError(dl.t.Policy.Timeout, err)
	}
	stop := dl.o.Err == nil || !sdk.KindOf(dl.o.Err).Retryable() || n > dl.t.Policy.Retries || over
	var wait time.Duration
	if !stop {
		wait = retryWait(dl.backoff)
		stop = time.Until(dl.deadline) < wait+dl.t.Policy.Timeout/4
		dl.backoff *= 2
	}
	dl.mu.Unlock()
	if stop {
		dl.end()
		return
	}
	go func() {
		ctx, cancel := context.WithDeadline(dl.ctx, dl.deadline)
		err := dl.d.sleep(ctx, wait)
		cancel()
		if err != nil {
			dl.end()
			return
		}
		dl.attempt()
	}()
}

// cancel gives up the attempt in flight when ctx ends; its answer (a
// cancelled error) then ends the delivery, as does a wait for a retry.
func (dl *delivery) cancel() {
	dl.mu.Lock()
	dl.cancelled = true
	cut := dl.cut
	dl.mu.Unlock()
	if cut != nil {
		cut()
	}
}

// end hands the outcome over, once.
func (dl *delivery) end() {
	dl.mu.Lock()
	if dl.ended {
		dl.mu.Unlock()
		return
	}
	dl.ended = true
	o := dl.o
	dl.mu.Unlock()
	dl.d.live.remove(dl)
	o.Duration = time.Since(dl.start)
	dl.group.finish(dl.index, o)
}
