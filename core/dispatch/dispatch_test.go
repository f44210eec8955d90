package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// failsafe turns a hang into a failure; it never decides an outcome.
const failsafe = 10 * time.Second

// fakeDeliverer answers beats with beat, per target, and records calls.
type fakeDeliverer struct {
	infos map[string]sdk.Info
	beat  func(ctx context.Context, instance string, b sdk.Beat) (sdk.Result, error)

	mu    sync.Mutex
	calls []call
}

type call struct {
	instance string
	beat     sdk.Beat
	deadline time.Time
}

func (f *fakeDeliverer) Beat(ctx context.Context, instance string, b sdk.Beat) (sdk.Result, error) {
	dl, _ := ctx.Deadline()
	f.mu.Lock()
	f.calls = append(f.calls, call{instance: instance, beat: b, deadline: dl})
	f.mu.Unlock()
	return f.beat(ctx, instance, b)
}

func (f *fakeDeliverer) Info(instance string) (sdk.Info, bool) {
	i, ok := f.infos[instance]
	return i, ok
}

func (f *fakeDeliverer) callsTo(instance string) []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []call
	for _, c := range f.calls {
		if c.instance == instance {
			out = append(out, c)
		}
	}
	return out
}

// lineLog is an hclog sink that hands every line to the test as it is written.
type lineLog struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func newLineLog() *lineLog { return &lineLog{lines: make(chan string, 100)} }

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf.Write(p)
	l.mu.Unlock()
	select {
	case l.lines <- string(p):
	default:
	}
	return len(p), nil
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *lineLog) count(s string) int { return strings.Count(l.String(), s) }

func newDispatcher(d Deliverer, log *lineLog) *Dispatcher {
	var logger hclog.Logger
	if log != nil {
		logger = hclog.New(&hclog.LoggerOptions{Output: log, Level: hclog.Info})
	}
	disp := New(d, logger)
	disp.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	return disp
}

var policy = Policy{Timeout: 15 * time.Second, Retries: 2, Backoff: time.Second}

func success(b sdk.Beat) sdk.Beat {
	b.Heartbeat = "hb"
	b.Signal = sdk.SignalSuccess
	b.Sequence = 7
	return b
}

func TestSlowTargetDoesNotDelayOthers(t *testing.T) {
	release := make(chan struct{})
	f := &fakeDeliverer{beat: func(ctx context.Context, instance string, b sdk.Beat) (sdk.Result, error) {
		if instance == "slow" {
			select {
			case <-release:
			case <-ctx.Done():
				return sdk.Result{}, ctx.Err()
			}
		}
		return sdk.Result{Detail: "ok from " + instance}, nil
	}}
	log := newLineLog()
	d := newDispatcher(f, log)
	targets := []Target{{Name: "fast1", Policy: policy}, {Name: "slow", Policy: policy}, {Name: "fast2", Policy: policy}}
	outcomes := make(chan []Outcome, 1)
	go func() { outcomes <- d.Deliver(context.Background(), success(sdk.Beat{}), targets, time.Time{}) }()

	// Both fast targets report their outcome while slow is still blocked.
	seen := map[string]bool{}
	for !seen["fast1"] || !seen["fast2"] {
		select {
		case line := <-log.lines:
			if strings.Contains(line, "target=slow") {
				t.Fatalf("slow reported before it was released: %s", line)
			}
			for _, name := range []string{"fast1", "fast2"} {
				if strings.Contains(line, "beat delivered") && strings.Contains(line, "target="+name) {
					seen[name] = true
				}
			}
		case <-time.After(failsafe):
			t.Fatalf("fast targets did not report while slow was blocked (seen %v); log:\n%s", seen, log)
		}
	}
	close(release)
	var out []Outcome
	select {
	case out = <-outcomes:
	case <-time.After(failsafe):
		t.Fatal("Deliver did not return")
	}
	for i, want := range []string{"fast1", "slow", "fast2"} {
		if out[i].Target != want || out[i].Err != nil || out[i].Result.Detail != "ok from "+want || out[i].Heartbeat != "hb" || out[i].Attempts != 1 {
			t.Errorf("outcome %d = %+v, want %s delivered in order", i, out[i], want)
		}
	}
}

func TestAttemptTimeout(t *testing.T) {
	for _, mode := range deliverModes {
		t.Run(mode, func(t *testing.T) { testAttemptTimeout(t, mode) })
	}
}

func testAttemptTimeout(t *testing.T, mode string) {
	const timeout = 20 * time.Millisecond
	f := &fakeDeliverer{beat: func(ctx context.Context, _ string, _ sdk.Beat) (sdk.Result, error) {
		<-ctx.Done() // a plugin that never answers
		return sdk.Result{}, sdk.Errorf(sdk.KindTemporary, "no answer from the plugin before the deadline")
	}}
	d := dispatcherFor(mode, f, nil)
	start := time.Now()
	out := deliverWith(t, mode, d, context.Background(), success(sdk.Beat{}), []Target{{Name: "t", Policy: Policy{Timeout: timeout, Retries: 1, Backoff: time.Second}}}, time.Time{})
	o := out[0]
	if o.Err == nil || !strings.Contains(o.Err.Error(), "no answer within the timeout of 20ms") || sdk.KindOf(o.Err) != sdk.KindTemporary {
		t.Errorf("err = %v (kind %s), want a temporary timeout error naming the timeout", o.Err, o.Kind())
	}
	if o.Attempts != 2 {
		t.Errorf("attempts = %d, want 2: a timed-out attempt is retried", o.Attempts)
	}
	calls := f.callsTo("t")
	for i, c := range calls {
		if c.deadline.IsZero() || c.deadline.Before(start) || c.deadline.After(time.Now().Add(timeout)) {
			t.Errorf("attempt %d ran with deadline %v; want one per attempt within %s", i+1, c.deadline, timeout)
		}
	}
	if len(calls) == 2 && !calls[1].deadline.After(calls[0].deadline) {
		t.Errorf("the retry reused the first attempt's deadline")
	}
}

func TestZeroTimeoutLeavesOnlyTheDeadline(t *testing.T) {
	for _, mode := range deliverModes {
		t.Run(mode, func(t *testing.T) { testZeroTimeoutLeavesOnlyTheDeadline(t, mode) })
	}
}

func testZeroTimeoutLeavesOnlyTheDeadline(t *testing.T, mode string) {
	f := &fakeDeliverer{beat: func(ctx context.Context, _ string, _ sdk.Beat) (sdk.Result, error) {
		if err := ctx.Err(); err != nil {
			return sdk.Result{}, err
		}
		return sdk.Result{Detail: "ok"}, nil
	}}
	d := dispatcherFor(mode, f, nil)
	deadline := time.Now().Add(time.Hour)
	out := deliverWith(t, mode, d, context.Background(), success(sdk.Beat{}), []Target{{Name: "t"}}, deadline)
	if out[0].Err != nil {
		t.Fatalf("err = %v; a zero Policy must still deliver", out[0].Err)
	}
	if c := f.callsTo("t"); len(c) != 1 || !c[0].deadline.Equal(deadline) {
		t.Errorf("calls %+v, want one under the heartbeat's deadline", c)
	}
}

// retryCase is one row of TestRetries.
type retryCase struct {
	name         string
	errs         []error // one per attempt; nil delivers
	retries      int
	wantAttempts int
	wantKind     string
}

func TestRetries(t *testing.T) {
	plain := errors.New("connection refused")
	tests := []retryCase{
		{name: "unmarked error is temporary and retried", errs: []error{plain, plain, plain, plain}, retries: 2, wantAttempts: 3, wantKind: "temporary"},
		{name: "temporary then delivered", errs: []error{sdk.Temporary(plain), nil}, retries: 2, wantAttempts: 2},
		{name: "not configured is retried", errs: []error{sdk.Errorf(sdk.KindNotConfigured, "unknown instance"), nil}, retries: 2, wantAttempts: 2},
		{name: "permanent is not retried", errs: []error{sdk.Permanent(plain), nil}, retries: 5, wantAttempts: 1, wantKind: "permanent"},
		{name: "not found is not retried", errs: []error{sdk.NotFound(plain), nil}, retries: 5, wantAttempts: 1, wantKind: "not_found"},
		{name: "rate limited is not retried", errs: []error{sdk.RateLimited(plain), nil}, retries: 5, wantAttempts: 1, wantKind: "rate_limited"},
		{name: "no retries configured", errs: []error{plain, nil}, retries: 0, wantAttempts: 1, wantKind: "temporary"},
		{name: "ten retries", errs: []error{plain, plain, plain, plain, plain, plain, plain, plain, plain, plain, plain, nil}, retries: 10, wantAttempts: 11, wantKind: "temporary"},
		{name: "delivered at once", errs: []error{nil}, retries: 2, wantAttempts: 1},
	}
	for _, tc := range tests {
		for _, mode := range deliverModes {
			t.Run(mode+"/"+tc.name, func(t *testing.T) { testRetries(t, mode, tc) })
		}
	}
}

func testRetries(t *testing.T, mode string, tc retryCase) {
	var n int
	f := &fakeDeliverer{beat: func(_ context.Context, _ string, b sdk.Beat) (sdk.Result, error) {
		err := tc.errs[n]
		n++
		if err != nil {
			return sdk.Result{}, err
		}
		return sdk.Result{Detail: "200 OK"}, nil
	}}
	d := dispatcherFor(mode, f, nil)
	var waits []time.Duration
	d.sleep = func(_ context.Context, w time.Duration) error { waits = append(waits, w); return nil }
	backoff := 100 * time.Millisecond
	out := deliverWith(t, mode, d, context.Background(), success(sdk.Beat{}), []Target{{Name: "t", Policy: Policy{Timeout: time.Second, Retries: tc.retries, Backoff: backoff}}}, time.Now().Add(24*time.Hour))
	o := out[0]
	if o.Attempts != tc.wantAttempts || n != tc.wantAttempts {
		t.Errorf("attempts = %d (deliverer called %d times), want %d", o.Attempts, n, tc.wantAttempts)
	}
	if o.Kind() != tc.wantKind {
		t.Errorf("kind = %q (err %v), want %q", o.Kind(), o.Err, tc.wantKind)
	}
	if tc.wantKind == "" && o.Result.Detail != "200 OK" {
		t.Errorf("result = %+v", o.Result)
	}
	for i, c := range f.callsTo("t") {
		if c.beat.Attempt != i+1 || c.beat.Sequence != 7 || c.beat.Heartbeat != "hb" {
			t.Errorf("call %d sent %+v; want attempt %d of the same beat", i, c.beat, i+1)
		}
	}
	// One wait before each retry, doubling: backoff*2^i with jitter
	// between half and all of it.
	if len(waits) != tc.wantAttempts-1 {
		t.Fatalf("waited %d times, want %d", len(waits), tc.wantAttempts-1)
	}
	for i, w := range waits {
		base := backoff << i
		if w < base/2 || w > base {
			t.Errorf("wait %d = %s, want within [%s, %s]", i, w, base/2, base)
		}
	}
}

func TestRetriesStopBeforeTheNextBeat(t *testing.T) {
	tests := []struct {
		name         string
		deadline     time.Duration // from now
		backoff      time.Duration
		wantAttempts int
	}{
		// The shortest wait (half the backoff) ends after the next beat.
		{name: "retry would end after the next beat", deadline: time.Minute, backoff: 10 * time.Minute, wantAttempts: 1},
		// The longest wait plus a quarter of the timeout ends long before.
		{name: "retries fit before the next beat", deadline: 24 * time.Hour, backoff: time.Second, wantAttempts: 3},
	}
	for _, tc := range tests {
		for _, mode := range deliverModes {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				f := &fakeDeliverer{beat: func(context.Context, string, sdk.Beat) (sdk.Result, error) {
					return sdk.Result{}, sdk.Temporary(errors.New("503 Service Unavailable"))
				}}
				d := dispatcherFor(mode, f, nil)
				slept := 0
				d.sleep = func(context.Context, time.Duration) error { slept++; return nil }
				deadline := time.Now().Add(tc.deadline)
				out := deliverWith(t, mode, d, context.Background(), success(sdk.Beat{}), []Target{{Name: "t", Policy: Policy{Timeout: time.Hour, Retries: 2, Backoff: tc.backoff}}}, deadline)
				if out[0].Attempts != tc.wantAttempts || slept != tc.wantAttempts-1 {
					t.Errorf("attempts %d, sleeps %d; want %d attempts", out[0].Attempts, slept, tc.wantAttempts)
				}
				if out[0].Kind() != "temporary" {
					t.Errorf("the last error is lost: %v", out[0].Err)
				}
				for i, c := range f.callsTo("t") {
					if c.deadline.IsZero() || c.deadline.After(deadline) {
						t.Errorf("attempt %d may run until %v, past the next beat at %v", i+1, c.deadline, deadline)
					}
				}
			})
		}
	}
}

func TestDeadlineDuringBackoffEndsRetries(t *testing.T) {
	for _, mode := range deliverModes {
		t.Run(mode, func(t *testing.T) {
			f := &fakeDeliverer{beat: func(context.Context, string, sdk.Beat) (sdk.Result, error) {
				return sdk.Result{}, sdk.Temporary(errors.New("503 Service Unavailable"))
			}}
			d := dispatcherFor(mode, f, nil)
			// The next beat comes while waiting to retry.
			d.sleep = func(context.Context, time.Duration) error { return context.DeadlineExceeded }
			out := deliverWith(t, mode, d, context.Background(), success(sdk.Beat{}), []Target{{Name: "t", Policy: policy}}, time.Now().Add(time.Hour))
			if out[0].Attempts != 1 || out[0].Err == nil || !strings.Contains(out[0].Err.Error(), "503") {
				t.Errorf("outcome %+v; want one attempt with its error kept", out[0])
			}
		})
	}
}

func TestUnsupportedSignalIsSkipped(t *testing.T) {
	f := &fakeDeliverer{
		infos: map[string]sdk.Info{
			"success-only": {Name: "http", Signals: []sdk.Signal{sdk.SignalSuccess}},
			"all":          {Name: "log", Signals: []sdk.Signal{sdk.SignalSuccess, sdk.SignalStart, sdk.SignalFail, sdk.SignalLog}},
		},
		beat: func(context.Context, string, sdk.Beat) (sdk.Result, error) { return sdk.Result{Detail: "sent"}, nil },
	}
	tests := []struct {
		target      string
		signal      sdk.Signal
		wantSkipped bool
	}{
		{"success-only", sdk.SignalFail, true},
		{"success-only", sdk.SignalStart, true},
		{"success-only", sdk.SignalSuccess, false},
		{"all", sdk.SignalLog, false},
		// Without Info the core cannot know; it sends.
		{"unknown", sdk.SignalFail, false},
	}
	for _, tc := range tests {
		t.Run(tc.target+"/"+tc.signal.String(), func(t *testing.T) {
			f.mu.Lock()
			f.calls = nil
			f.mu.Unlock()
			log := newLineLog()
			d := newDispatcher(f, log)
			out := d.Deliver(context.Background(), sdk.Beat{Heartbeat: "hb", Signal: tc.signal}, []Target{{Name: tc.target, Policy: policy}}, time.Time{})
			o := out[0]
			sent := len(f.callsTo(tc.target))
			if o.Skipped != tc.wantSkipped || (sent == 0) != tc.wantSkipped {
				t.Errorf("skipped = %v with %d beats sent; want skipped %v", o.Skipped, sent, tc.wantSkipped)
			}
			if tc.wantSkipped && (o.Err != nil || o.Attempts != 0 || o.Kind() != "" || log.count("[ERROR]") != 0) {
				t.Errorf("a skipped signal is no failure: %+v\n%s", o, log)
			}
		})
	}
}

func TestLogsOncePerStateChange(t *testing.T) {
	notFound := sdk.NotFound(errors.New("https://hc-ping.com/…beef answered 404 Not Found"))
	otherPerm := sdk.Permanent(errors.New("https://hc-ping.com/…beef answered 401 Unauthorized"))
	temp := sdk.Temporary(errors.New("503 Service Unavailable"))
	steps := []struct {
		err       error
		wantError int // "beat not delivered" lines so far
		wantAgain int // "delivered again" lines so far
	}{
		{notFound, 1, 0},
		{notFound, 1, 0}, // same error: not logged again
		{notFound, 1, 0},
		{otherPerm, 2, 0}, // a different error is a new state
		{otherPerm, 2, 0},
		{nil, 2, 1}, // recovery is logged once
		{nil, 2, 1},
		{notFound, 3, 1}, // failing again after a recovery is logged
		{temp, 4, 1},
		{temp, 4, 1}, // a retryable failure that repeats is logged once too
		{temp, 4, 1},
	}
	var next error
	f := &fakeDeliverer{beat: func(context.Context, string, sdk.Beat) (sdk.Result, error) {
		if next != nil {
			return sdk.Result{}, next
		}
		return sdk.Result{Detail: "200 OK"}, nil
	}}
	log := newLineLog()
	d := newDispatcher(f, log)
	for i, st := range steps {
		next = st.err
		d.Deliver(context.Background(), success(sdk.Beat{}), []Target{{Name: "t", Policy: Policy{Timeout: time.Second}}}, time.Time{})
		if got := log.count("beat not delivered"); got != st.wantError {
			t.Fatalf("after step %d (%v): %d error lines, want %d:\n%s", i, st.err, got, st.wantError, log)
		}
		if got := log.count("beat delivered again after failures"); got != st.wantAgain {
			t.Fatalf("after step %d: %d recovery lines, want %d:\n%s", i, got, st.wantAgain, log)
		}
	}
	if !strings.Contains(log.String(), "reason=not_found") {
		t.Errorf("error lines should carry the kind:\n%s", log)
	}
}

func TestLogStateIsPerHeartbeatAndTarget(t *testing.T) {
	f := &fakeDeliverer{beat: func(context.Context, string, sdk.Beat) (sdk.Result, error) {
		return sdk.Result{}, sdk.NotFound(errors.New("unknown check"))
	}}
	log := newLineLog()
	d := newDispatcher(f, log)
	targets := []Target{{Name: "a", Policy: policy}, {Name: "b", Policy: policy}}
	for round := 0; round < 3; round++ {
		for _, hb := range []string{"h1", "h2"} {
			d.Deliver(context.Background(), sdk.Beat{Heartbeat: hb, Signal: sdk.SignalSuccess}, targets, time.Time{})
		}
	}
	for _, hb := range []string{"h1", "h2"} {
		for _, tg := range []string{"a", "b"} {
			want := fmt.Sprintf("heartbeat=%s target=%s", hb, tg)
			if n := log.count(want); n != 1 {
				t.Errorf("%q logged %d times, want once:\n%s", want, n, log)
			}
		}
	}
}

// A reload forgets the log state of the pairs it removed, and only those.
func TestKeepPairsForgetsPairsNoLongerInForce(t *testing.T) {
	f := &fakeDeliverer{beat: func(context.Context, string, sdk.Beat) (sdk.Result, error) {
		return sdk.Result{}, sdk.NotFound(errors.New("unknown check"))
	}}
	log := newLineLog()
	d := newDispatcher(f, log)
	deliver := func(hb string, targets ...string) {
		var ts []Target
		for _, name := range targets {
			ts = append(ts, Target{Name: name, Policy: policy})
		}
		d.Deliver(context.Background(), sdk.Beat{Heartbeat: hb, Signal: sdk.SignalSuccess}, ts, time.Time{})
	}
	deliver("h1", "a", "b")
	deliver("h2", "a")
	d.KeepPairs(map[string][]string{"h1": {"a"}, "h3": {"a"}})
	d.mu.Lock()
	left := len(d.pairs)
	d.mu.Unlock()
	if left != 1 {
		t.Errorf("%d pairs kept, want 1 (h1/a)", left)
	}
	deliver("h1", "a", "b")
	deliver("h2", "a")
	for _, tc := range []struct {
		pair string
		want int
	}{
		{"heartbeat=h1 target=a", 1}, // kept: the same failure is not new
		{"heartbeat=h1 target=b", 2}, // forgotten: logged again
		{"heartbeat=h2 target=a", 2},
	} {
		t.Run(tc.pair, func(t *testing.T) {
			if n := log.count("beat not delivered: " + tc.pair); n != tc.want {
				t.Errorf("%q: %d error lines, want %d:\n%s", tc.pair, n, tc.want, log)
			}
		})
	}
}
