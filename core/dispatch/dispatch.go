// Package dispatch delivers one tick of a heartbeat to each of its targets:
// each target concurrently, each attempt under a deadline, retryable
// failures retried with exponential backoff and jitter, never past the
// heartbeat's next beat; a deadline that is near or already past (a tick
// that fired late) still leaves the first attempt minFirstWindow.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Deliverer sends one beat to one target instance (the plugin host).
type Deliverer interface {
	Beat(ctx context.Context, instance string, b sdk.Beat) (sdk.Result, error)
	Info(instance string) (sdk.Info, bool)
}

// Policy is how hard to try one target.
type Policy struct {
	Timeout time.Duration
	Retries int
	Backoff time.Duration
}

// Target is one target of a heartbeat.
type Target struct {
	// Name is the target's name in the config, used in logs and outcomes.
	Name string
	// Instance is the name the plugin knows the target by; Name when empty.
	Instance string
	Policy   Policy
}

func (t Target) instance() string {
	if t.Instance != "" {
		return t.Instance
	}
	return t.Name
}

// Outcome is the result of delivering one beat to one target.
type Outcome struct {
	Heartbeat string
	Target    string
	Signal    sdk.Signal
	Attempts  int
	Duration  time.Duration
	Result    sdk.Result
	// Err is nil when delivered; Skipped is set when the target does not
	// support the signal and nothing was sent.
	Err     error
	Skipped bool
}

// Kind classifies Err ("" when delivered).
func (o Outcome) Kind() string {
	if o.Err == nil {
		return ""
	}
	return sdk.KindOf(o.Err).String()
}

// minFirstWindow is the least time a beat's first attempt gets, however
// near (or past) the heartbeat's next beat is. It is well below the 900 ms
// an on-time beat of a heartbeat firing every second gets, so it only
// lifts deadlines that would leave an attempt no time at all, and a
// hanging target still cannot hold a heartbeat past its next beat for
// long.
const minFirstWindow = 500 * time.Millisecond

// remindEvery is how often a failure that keeps repeating is logged again
// as an error, with its count.
const remindEvery = time.Hour

// Dispatcher delivers beats and logs each outcome once per state change
// for errors that repeat, so a missing check or a server that stays down
// does not flood the log.
type Dispatcher struct {
	deliverer Deliverer
	starter   Starter // deliverer, when it is one
	logger    hclog.Logger
	sleep     func(ctx context.Context, d time.Duration) error
	now       func() time.Time
	// live cuts the deliveries that Start began when their context ends.
	live watcher

	mu    sync.Mutex
	pairs map[[2]string]*pairState // (heartbeat, target) -> what was logged
}

// pairState is what the log has said of one target of one heartbeat: one
// map entry, looked up once a beat.
type pairState struct {
	failing *failing // the current failure; nil when the last beat was delivered
	// delivered is set once a beat was delivered: only the first delivery
	// is logged at info level, the routine ones that follow at debug level.
	delivered bool
}

// failing is a target's run of failures with the same error.
type failing struct {
	err      string
	shape    string // err's kind and text with numbers left out
	count    int
	loggedAt time.Time // last logged as an error
}

// KeepPairs forgets what the log said of every (heartbeat, target) pair
// that is not in inForce (heartbeat -> its targets): after a reload has
// renamed or removed them, their state would otherwise be held for good.
// The pairs kept keep their state, so a failure that goes on through a
// reload is not logged as new. A removed pair's beat still in flight
// enters it again, until the next reload.
func (d *Dispatcher) KeepPairs(inForce map[string][]string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for key := range d.pairs {
		if !slices.Contains(inForce[key[0]], key[1]) {
			delete(d.pairs, key)
		}
	}
}

// errorShape is what two errors must share to count as the same: the kind
// and the text, numbers aside, so that a countdown, a duration or a port
// in the message does not make every failure new.
func errorShape(err error) string {
	var b strings.Builder
	b.WriteString(sdk.KindOf(err).String())
	b.WriteByte(':')
	digits := false
	for _, r := range err.Error() {
		if r >= '0' && r <= '9' {
			if !digits {
				b.WriteByte('#')
			}
			digits = true
			continue
		}
		digits = false
		b.WriteRune(r)
	}
	return b.String()
}

// New returns a Dispatcher.
func New(d Deliverer, logger hclog.Logger) *Dispatcher {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	starter, _ := d.(Starter)
	return &Dispatcher{deliverer: d, starter: starter, logger: logger, sleep: sleepCtx, now: time.Now, pairs: map[[2]string]*pairState{}}
}

// Deliver sends b to every target concurrently and returns one outcome per
// target, in the order given. deadline (when not zero) is the heartbeat's
// next beat: retries stop before it. It is never sooner than
// minFirstWindow from now, so a beat whose deadline is near or past is
// still sent.
func (d *Dispatcher) Deliver(ctx context.Context, b sdk.Beat, targets []Target, deadline time.Time) []Outcome {
	out := make([]Outcome, len(targets))
	if len(targets) == 1 {
		// Nothing to wait for concurrently: the caller's goroutine does it.
		out[0] = d.deliverOne(ctx, b, targets[0], deadline)
		d.report(out[0])
		return out
	}
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = d.deliverOne(ctx, b, t, deadline)
			d.report(out[i])
		}()
	}
	wg.Wait()
	return out
}

func (d *Dispatcher) deliverOne(ctx context.Context, b sdk.Beat, t Target, deadline time.Time) Outcome {
	o := Outcome{Heartbeat: b.Heartbeat, Target: t.Name, Signal: b.Signal}
	if info, ok := d.deliverer.Info(t.instance()); ok && !info.Supports(b.Signal) {
		o.Skipped = true
		return o
	}
	start := time.Now()
	if !deadline.IsZero() {
		if least := start.Add(minFirstWindow); deadline.Before(least) {
			deadline = least
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	backoff := t.Policy.Backoff
	for attempt := 1; ; attempt++ {
		o.Attempts = attempt
		b.Attempt = attempt
		attemptCtx, cancel := ctx, context.CancelFunc(func() {})
		if t.Policy.Timeout > 0 && !deadlineWithin(ctx, t.Policy.Timeout) {
			// Without a timeout only the deadline bounds an attempt: a zero
			// timeout must not fail every attempt before it is sent. A
			// deadline nearer than the timeout bounds it alone, with no
			// timer of its own.
			attemptCtx, cancel = context.WithTimeout(ctx, t.Policy.Timeout)
		}
		o.Result, o.Err = d.deliverer.Beat(attemptCtx, t.instance(), b)
		timedOut := o.Err != nil && pastDeadline(attemptCtx) && ctx.Err() == nil && !pastDeadline(ctx)
		cancel()
		if timedOut {
			o.Err = timeoutError(t.Policy.Timeout, o.Err)
		}
		if o.Err == nil || !sdk.KindOf(o.Err).Retryable() || attempt > t.Policy.Retries || ctx.Err() != nil {
			break
		}
		// Jitter (half the backoff, or up to all of it) keeps many
		// heartbeats from retrying in step.
		wait := retryWait(backoff)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait+t.Policy.Timeout/4 {
			break // the next beat is due before a retry could finish
		}
		if d.sleep(ctx, wait) != nil {
			break
		}
		backoff *= 2
	}
	o.Duration = time.Since(start)
	return o
}

// report logs o: a failure when its error changes, then again only every
// remindEvery while it lasts; a recovery once; the first delivery to a
// target at info level, the ones after it at debug level.
func (d *Dispatcher) report(o Outcome) {
	key := [2]string{o.Heartbeat, o.Target}
	if o.Skipped {
		if d.logger.IsDebug() {
			d.logger.Debug("signal not supported by the target; not sent", d.logArgs(o)...)
		}
		return
	}
	now := d.now()
	// Decided under the lock: recovered (with the failures it ends), the
	// first delivery, or the failure and whether it is new or due for a
	// reminder.
	var recovered, repeat, first bool
	var cur failing
	var shape string
	if o.Err != nil {
		shape = errorShape(o.Err)
	}
	d.mu.Lock()
	pair := d.pairs[key]
	if pair == nil {
		pair = &pairState{}
		d.pairs[key] = pair
	}
	prev := pair.failing
	switch {
	case o.Err == nil:
		if prev != nil {
			recovered, cur = true, *prev
		}
		pair.failing = nil
		first = !pair.delivered
		pair.delivered = true
	case prev == nil || prev.shape != shape:
		pair.failing = &failing{err: o.Err.Error(), shape: shape, count: 1, loggedAt: now}
		cur = *pair.failing
	default:
		prev.err = o.Err.Error()
		prev.count++
		repeat = now.Sub(prev.loggedAt) < remindEvery
		if !repeat {
			prev.loggedAt = now
		}
		cur = *prev
	}
	d.mu.Unlock()
	if o.Err == nil {
		switch {
		case recovered:
			d.logger.Info("beat delivered again after failures", append(d.logArgs(o), "failures", cur.count, "result", o.Result.Detail)...)
		case first:
			d.logger.Info("beat delivered", append(d.logArgs(o), "result", o.Result.Detail)...)
		case d.logger.IsDebug():
			// Routine: at info level, a heartbeat beating every second would
			// fill the log with lines that say nothing new.
			d.logger.Debug("beat delivered", append(d.logArgs(o), "result", o.Result.Detail)...)
		}
		return
	}
	args := append(d.logArgs(o), "reason", o.Kind(), "error", cur.err)
	switch {
	case repeat:
		d.logger.Debug("beat not delivered (same error as before)", append(args, "failures", cur.count)...)
	case cur.count > 1:
		d.logger.Error("beat still not delivered (same error; repeats are logged at debug level)", append(args, "failures", cur.count)...)
	default:
		d.logger.Error("beat not delivered", args...)
	}
}

// logArgs are the fields every log line about an outcome has.
func (d *Dispatcher) logArgs(o Outcome) []any {
	return []any{"heartbeat", o.Heartbeat, "target", o.Target, "signal", o.Signal.String(), "attempts", o.Attempts, "duration", o.Duration.Round(time.Millisecond)}
}

// retryWait is the wait before a retry after backoff: half of it, or up
// to all of it. rand.N panics on n <= 0.
func retryWait(backoff time.Duration) time.Duration {
	backoff = max(backoff, 0)
	return backoff/2 + rand.N(backoff/2+1)
}

// timeoutError is err from an attempt cut by the target's timeout.
func timeoutError(timeout time.Duration, err error) error {
	return sdk.Temporary(fmt.Errorf("no answer within the timeout of %s: %w", timeout, err))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// deadlineWithin reports that ctx ends within d from now.
func deadlineWithin(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) <= d
}

// pastDeadline reports that ctx's deadline has passed. The plugin may
// give up at the deadline and reset the stream a moment before ctx's own
// timer marks it done, so the clock is read as well.
func pastDeadline(ctx context.Context) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}
