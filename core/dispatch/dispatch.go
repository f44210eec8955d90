// Package dispatch delivers one tick of a heartbeat to each of its targets:
// each target concurrently, each attempt under a deadline, retryable
// failures retried with exponential backoff and jitter, never past the
// heartbeat's next beat.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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

// Dispatcher delivers beats and logs each outcome once per state change
// for errors that repeat, so a missing check does not flood the log.
type Dispatcher struct {
	deliverer Deliverer
	logger    hclog.Logger
	sleep     func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	state map[[2]string]string // (heartbeat, target) -> last error text
}

// New returns a Dispatcher.
func New(d Deliverer, logger hclog.Logger) *Dispatcher {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Dispatcher{deliverer: d, logger: logger, sleep: sleepCtx, state: map[[2]string]string{}}
}

// Deliver sends b to every target concurrently and returns one outcome per
// target, in the order given. deadline (when not zero) is the heartbeat's
// next beat: retries stop before it.
func (d *Dispatcher) Deliver(ctx context.Context, b sdk.Beat, targets []Target, deadline time.Time) []Outcome {
	out := make([]Outcome, len(targets))
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
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	start := time.Now()
	backoff := t.Policy.Backoff
	for attempt := 1; ; attempt++ {
		o.Attempts = attempt
		b.Attempt = attempt
		attemptCtx, cancel := ctx, context.CancelFunc(func() {})
		if t.Policy.Timeout > 0 {
			// Without a timeout only the deadline bounds an attempt: a zero
			// timeout must not fail every attempt before it is sent.
			attemptCtx, cancel = context.WithTimeout(ctx, t.Policy.Timeout)
		}
		o.Result, o.Err = d.deliverer.Beat(attemptCtx, t.instance(), b)
		timedOut := o.Err != nil && pastDeadline(attemptCtx) && ctx.Err() == nil && !pastDeadline(ctx)
		cancel()
		if timedOut {
			o.Err = sdk.Temporary(fmt.Errorf("no answer within the timeout of %s: %w", t.Policy.Timeout, o.Err))
		}
		if o.Err == nil || !sdk.KindOf(o.Err).Retryable() || attempt > t.Policy.Retries || ctx.Err() != nil {
			break
		}
		// Jitter (half the backoff, or up to all of it) keeps many
		// heartbeats from retrying in step. rand.N panics on n <= 0.
		backoff = max(backoff, 0)
		wait := backoff/2 + rand.N(backoff/2+1)
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

// report logs o: failures once per change of error, recoveries once.
func (d *Dispatcher) report(o Outcome) {
	key := [2]string{o.Heartbeat, o.Target}
	args := []any{"heartbeat", o.Heartbeat, "target", o.Target, "signal", o.Signal.String(), "attempts", o.Attempts, "duration", o.Duration.Round(time.Millisecond)}
	if o.Skipped {
		d.logger.Debug("signal not supported by the target; not sent", args...)
		return
	}
	d.mu.Lock()
	prev, hadErr := d.state[key]
	if o.Err == nil {
		delete(d.state, key)
	} else {
		d.state[key] = o.Err.Error()
	}
	d.mu.Unlock()
	if o.Err == nil {
		if hadErr {
			d.logger.Info("beat delivered again after failures", append(args, "result", o.Result.Detail)...)
			return
		}
		d.logger.Info("beat delivered", append(args, "result", o.Result.Detail)...)
		return
	}
	args = append(args, "reason", o.Kind(), "error", o.Err.Error())
	if hadErr && prev == o.Err.Error() && !sdk.KindOf(o.Err).Retryable() {
		d.logger.Debug("beat not delivered (same error as before)", args...)
		return
	}
	d.logger.Error("beat not delivered", args...)
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
