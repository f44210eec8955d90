package scheduler

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
)

// failsafe bounds every wait of a test for the scheduler; it only turns a
// hang into a failure and never decides an outcome.
const failsafe = 10 * time.Second

// fakeClock is a Clock driven by the test. The wall clock (Now) and the
// monotonic clock (After) move together on advance; jump moves the wall
// clock alone, as setting the system clock or resuming from suspend does.
type fakeClock struct {
	mu      sync.Mutex
	wall    time.Time
	mono    time.Duration
	waiters []waiter
	// calls receives the duration of every After call, so the test knows
	// when the scheduler is about to sleep.
	calls chan time.Duration
}

type waiter struct {
	at time.Duration
	ch chan time.Time
}

func newFakeClock(wall time.Time) *fakeClock {
	return &fakeClock{wall: wall, calls: make(chan time.Duration, 1024)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.wall
	} else {
		c.waiters = append(c.waiters, waiter{at: c.mono + d, ch: ch})
	}
	c.mu.Unlock()
	c.calls <- d
	return ch
}

// advance moves both clocks by d and the wall clock by a further jump,
// then fires every After that is due.
func (c *fakeClock) advance(d, jump time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mono += d
	c.wall = c.wall.Add(d + jump)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at <= c.mono {
			w.ch <- c.wall
			continue
		}
		kept = append(kept, w)
	}
	c.waiters = kept
}

// syncBuffer is a log sink safe for the scheduler's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// harness runs a Scheduler on a fake clock, one sleep at a time.
type harness struct {
	t      *testing.T
	clk    *fakeClock
	s      *Scheduler
	logs   *syncBuffer
	cancel context.CancelFunc
	done   chan struct{}
	// parked: the scheduler is asleep for pending.
	parked  bool
	pending time.Duration

	mu    sync.Mutex
	ticks []Tick
	// hook, when set, runs inside Run after the tick is recorded.
	hook func(ctx context.Context, t Tick)
	// held names heartbeats whose Run the test blocks on purpose.
	held map[string]bool
}

var t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func start(t *testing.T, at time.Time, grace time.Duration, hook func(context.Context, Tick), jobs ...Job) *harness {
	t.Helper()
	return startWith(t, at, grace, hook, nil, jobs...)
}

// startWith is start with Options.Start set to begin.
func startWith(t *testing.T, at time.Time, grace time.Duration, hook func(context.Context, Tick), begin func(context.Context, Tick, func()) bool, jobs ...Job) *harness {
	t.Helper()
	h := &harness{t: t, clk: newFakeClock(at), logs: &syncBuffer{}, done: make(chan struct{}), hook: hook, held: map[string]bool{}}
	h.s = New(Options{
		Clock:  h.clk,
		Logger: hclog.New(&hclog.LoggerOptions{Output: h.logs, Level: hclog.Debug}),
		Grace:  grace,
		Run: func(ctx context.Context, tick Tick) {
			h.mu.Lock()
			h.ticks = append(h.ticks, tick)
			hook := h.hook
			h.mu.Unlock()
			if hook != nil {
				hook(ctx, tick)
			}
		},
		Start: begin,
	})
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		h.s.Run(ctx, jobs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(failsafe):
			t.Error("Run did not return after its context was cancelled")
		}
	})
	return h
}

func job(t *testing.T, name, expr string) Job {
	t.Helper()
	s, err := schedule.Parse(expr)
	if err != nil {
		t.Fatalf("parse %q: %v", expr, err)
	}
	return Job{Name: name, Schedule: s, Key: expr}
}

// park waits until the scheduler sleeps and returns the sleep's length.
func (h *harness) park() time.Duration {
	h.t.Helper()
	if h.parked {
		return h.pending
	}
	select {
	case d := <-h.clk.calls:
		h.parked, h.pending = true, d
		return d
	case <-h.done:
		h.t.Fatal("Run returned while the test expected it to sleep")
	case <-time.After(failsafe):
		h.t.Fatal("the scheduler did not go to sleep")
	}
	return 0
}

// hold tells the harness that name's Run is blocked on purpose.
func (h *harness) hold(name string, held bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held[name] = held
}

// quiesce waits until every Run call has returned except the held ones:
// the Run calls of a real daemon take far less than a period, while here
// the fake clock moves in no time at all.
func (h *harness) quiesce() {
	h.t.Helper()
	deadline := time.Now().Add(failsafe)
	for {
		busy := ""
		h.mu.Lock()
		h.s.mu.Lock()
		for name := range h.s.inFlight {
			if !h.held[name] {
				busy = name
			}
		}
		h.s.mu.Unlock()
		h.mu.Unlock()
		if busy == "" {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("the tick of %s never finished", busy)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// wake ends the current sleep; the wall clock moves by the sleep plus jump.
func (h *harness) wake(jump time.Duration) {
	h.t.Helper()
	d := h.park()
	h.quiesce()
	h.parked = false
	h.clk.advance(d, jump)
}

// sleepPart moves both clocks by d, less than the current sleep, without
// waking the scheduler.
func (h *harness) sleepPart(d time.Duration) {
	h.t.Helper()
	p := h.park()
	if d >= p {
		h.t.Fatalf("sleepPart(%s) inside a sleep of %s", d, p)
	}
	h.clk.advance(d, 0)
	h.pending = p - d
}

// runUntil lets the scheduler sleep and wake until the wall clock reaches
// until, then waits until it sleeps again (every due tick has started).
func (h *harness) runUntil(until time.Time) {
	h.t.Helper()
	for h.clk.Now().Before(until) {
		h.wake(0)
	}
	h.park()
}

// update hands jobs to the running scheduler.
func (h *harness) update(jobs ...Job) {
	h.t.Helper()
	h.park()
	h.s.Update(context.Background(), jobs)
	h.parked = false // the scheduler plans again and sleeps anew
	h.park()
}

// stop cancels Run and waits for it to return: every Run call has ended.
func (h *harness) stop() {
	h.t.Helper()
	h.park()
	h.cancel()
	select {
	case <-h.done:
	case <-time.After(failsafe):
		h.t.Fatal("Run did not return after its context was cancelled")
	}
}

// ticksOf returns name's ticks in sequence order.
func (h *harness) ticksOf(name string) []Tick {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Tick
	for _, tk := range h.ticks {
		if tk.Heartbeat == name {
			out = append(out, tk)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Sequence < out[j].Sequence })
	return out
}

func clock(ts ...string) []time.Time {
	out := make([]time.Time, len(ts))
	for i, s := range ts {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		out[i] = v.UTC()
	}
	return out
}

func scheduledAt(ticks []Tick) []string {
	out := make([]string, len(ticks))
	for i, tk := range ticks {
		out[i] = tk.ScheduledAt.UTC().Format(time.RFC3339)
	}
	return out
}

func fmtTimes(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, v := range ts {
		out[i] = v.UTC().Format(time.RFC3339)
	}
	return out
}

func checkTimes(t *testing.T, name string, got []Tick, want []time.Time) {
	t.Helper()
	if g, w := strings.Join(scheduledAt(got), " "), strings.Join(fmtTimes(want), " "); g != w {
		t.Errorf("%s beat at\n  %s\nwant\n  %s", name, g, w)
	}
}

func TestStartupBeatThenSchedule(t *testing.T) {
	tests := []struct {
		name  string
		start time.Time
		until time.Time
		jobs  map[string]string
		want  map[string][]time.Time
	}{
		{
			name:  "every second",
			start: t0,
			until: t0.Add(3 * time.Second),
			jobs:  map[string]string{"a": "every 1 sec"},
			want:  map[string][]time.Time{"a": clock("2024-03-01T10:00:00Z", "2024-03-01T10:00:01Z", "2024-03-01T10:00:02Z", "2024-03-01T10:00:03Z")},
		},
		{
			name:  "every 5 minutes starting between two fire times",
			start: t0.Add(2*time.Minute + 30*time.Second),
			until: t0.Add(15 * time.Minute),
			jobs:  map[string]string{"a": "every 5 minutes"},
			want:  map[string][]time.Time{"a": clock("2024-03-01T10:02:30Z", "2024-03-01T10:05:00Z", "2024-03-01T10:10:00Z", "2024-03-01T10:15:00Z")},
		},
		{
			name:  "several heartbeats each beat at start-up and on their own schedule",
			start: t0.Add(7 * time.Second),
			until: t0.Add(30 * time.Second),
			jobs:  map[string]string{"ten": "every 10 seconds", "fifteen": "every 15 seconds", "minute": "every 1 minute"},
			want: map[string][]time.Time{
				"ten":     clock("2024-03-01T10:00:07Z", "2024-03-01T10:00:10Z", "2024-03-01T10:00:20Z", "2024-03-01T10:00:30Z"),
				"fifteen": clock("2024-03-01T10:00:07Z", "2024-03-01T10:00:15Z", "2024-03-01T10:00:30Z"),
				"minute":  clock("2024-03-01T10:00:07Z"),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var jobs []Job
			for name, expr := range tc.jobs {
				jobs = append(jobs, job(t, name, expr))
			}
			h := start(t, tc.start, time.Second, nil, jobs...)
			h.runUntil(tc.until)
			h.stop()
			for _, j := range jobs {
				got := h.ticksOf(j.Name)
				checkTimes(t, j.Name, got, tc.want[j.Name])
				// The schedule's own NextFire agrees with every tick after the first.
				for i, tk := range got {
					if tk.Sequence != uint64(i+1) {
						t.Errorf("%s tick %d has sequence %d", j.Name, i, tk.Sequence)
					}
					if tk.Startup != (i == 0) {
						t.Errorf("%s tick %d: Startup = %v", j.Name, i, tk.Startup)
					}
					next, ok, _ := j.Schedule.NextBeat(tk.ScheduledAt, tk.ScheduledAt)
					if !ok || !tk.Next.Equal(next) {
						t.Errorf("%s tick %d: Next = %v, want NextBeat(%v) = %v", j.Name, i, tk.Next, tk.ScheduledAt, next)
					}
					if i+1 < len(got) && !got[i+1].ScheduledAt.Equal(tk.Next) {
						t.Errorf("%s tick %d announced %v as next, but the next tick was at %v", j.Name, i, tk.Next, got[i+1].ScheduledAt)
					}
				}
			}
		})
	}
}

func TestSleepsAreBounded(t *testing.T) {
	h := start(t, t0, time.Second, nil, job(t, "a", "every 1 hour"))
	for i := 0; i < 5; i++ {
		if d := h.park(); d <= 0 || d > maxSleep {
			t.Fatalf("sleep %d lasts %s; want at most %s so clock jumps are noticed", i, d, maxSleep)
		}
		h.wake(0)
	}
	h.stop()
}

func TestNoOverlap(t *testing.T) {
	release := make(chan struct{})
	hook := func(ctx context.Context, tk Tick) {
		if tk.Heartbeat == "slow" && tk.Sequence == 1 {
			<-release
		}
	}
	h := start(t, t0, time.Second, hook, job(t, "slow", "every 1 sec"), job(t, "fast", "every 1 sec"))
	h.hold("slow", true)
	// slow's start-up beat blocks: its next two ticks are skipped while fast
	// keeps beating.
	h.runUntil(t0.Add(2 * time.Second))
	close(release)
	h.hold("slow", false)
	h.runUntil(t0.Add(4 * time.Second))
	h.stop()

	checkTimes(t, "fast", h.ticksOf("fast"), clock("2024-03-01T10:00:00Z", "2024-03-01T10:00:01Z", "2024-03-01T10:00:02Z", "2024-03-01T10:00:03Z", "2024-03-01T10:00:04Z"))
	slow := h.ticksOf("slow")
	checkTimes(t, "slow", slow, clock("2024-03-01T10:00:00Z", "2024-03-01T10:00:03Z", "2024-03-01T10:00:04Z"))
	var seqs []uint64
	for _, tk := range slow {
		seqs = append(seqs, tk.Sequence)
	}
	if fmt.Sprint(seqs) != "[1 4 5]" {
		t.Errorf("slow sequences = %v, want [1 4 5]: skipped ticks leave a gap", seqs)
	}
	logs := h.logs.String()
	if n := strings.Count(logs, "previous beat still in progress; skipping this one"); n != 2 {
		t.Errorf("logged %d skips, want 2:\n%s", n, logs)
	}
	// A run of skips is one warning, then debug lines, then one line when
	// the heartbeat beats again.
	if n := strings.Count(logs, "[WARN]  previous beat still in progress"); n != 1 {
		t.Errorf("%d skip warnings, want 1 for the run of skips:\n%s", n, logs)
	}
	if n := strings.Count(logs, "previous beat finished; beating again: heartbeat=slow skipped=2"); n != 1 {
		t.Errorf("%d lines say slow beats again after 2 skips, want 1:\n%s", n, logs)
	}
	if !strings.Contains(logs, "heartbeat=slow") || !strings.Contains(logs, "skipped_total=2") || strings.Contains(logs, "heartbeat=fast") {
		t.Errorf("skip lines should name slow with a running total:\n%s", logs)
	}
}

func TestWallClockJumps(t *testing.T) {
	tests := []struct {
		name   string
		expr   string
		jumpAt time.Time // the sleep that ends past this point jumps
		jump   time.Duration
		until  time.Time
		want   []time.Time
		log    string
	}{
		{
			name:   "forward 3 hours: one late beat, then on schedule from the new time",
			expr:   "every 5 minutes",
			jumpAt: t0.Add(7 * time.Minute),
			jump:   3 * time.Hour,
			until:  t0.Add(3*time.Hour + 20*time.Minute),
			// 10:10 is due when the clock shows 13:07:01: it beats once.
			want: clock("2024-03-01T10:00:00Z", "2024-03-01T10:05:00Z", "2024-03-01T10:10:00Z", "2024-03-01T13:10:00Z", "2024-03-01T13:15:00Z", "2024-03-01T13:20:00Z"),
		},
		{
			name:   "forward 3 hours on a short period",
			expr:   "every 10 seconds",
			jumpAt: t0.Add(25 * time.Second),
			jump:   3 * time.Hour,
			until:  t0.Add(3*time.Hour + 50*time.Second),
			want:   clock("2024-03-01T10:00:00Z", "2024-03-01T10:00:10Z", "2024-03-01T10:00:20Z", "2024-03-01T10:00:30Z", "2024-03-01T13:00:30Z", "2024-03-01T13:00:40Z", "2024-03-01T13:00:50Z"),
		},
		{
			name:   "back 1 hour: no repeated burst, on schedule from the new time",
			expr:   "every 10 seconds",
			jumpAt: t0.Add(25 * time.Second),
			jump:   -time.Hour,
			until:  t0.Add(-time.Hour + 50*time.Second),
			want:   clock("2024-03-01T10:00:00Z", "2024-03-01T10:00:10Z", "2024-03-01T10:00:20Z", "2024-03-01T09:00:30Z", "2024-03-01T09:00:40Z", "2024-03-01T09:00:50Z"),
			log:    "the system clock went back",
		},
		{
			name:   "back 3 hours on a long period",
			expr:   "every 5 minutes",
			jumpAt: t0.Add(7 * time.Minute),
			jump:   -3 * time.Hour,
			until:  t0.Add(-3*time.Hour + 15*time.Minute),
			want:   clock("2024-03-01T10:00:00Z", "2024-03-01T10:05:00Z", "2024-03-01T07:10:00Z", "2024-03-01T07:15:00Z"),
			log:    "the system clock went back",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, t0, time.Second, nil, job(t, "hb", tc.expr))
			h.runUntil(tc.jumpAt)
			h.wake(tc.jump)
			h.runUntil(tc.until)
			h.stop()
			got := h.ticksOf("hb")
			checkTimes(t, "hb", got, tc.want)
			for i, tk := range got {
				if tk.Sequence != uint64(i+1) {
					t.Errorf("tick %d has sequence %d", i, tk.Sequence)
				}
			}
			if tc.log != "" && !strings.Contains(h.logs.String(), tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, h.logs.String())
			}
		})
	}
}

func TestLateTickAnnouncesNextFromNewTime(t *testing.T) {
	h := start(t, t0, time.Second, nil, job(t, "hb", "every 5 minutes"))
	h.runUntil(t0.Add(7 * time.Minute))
	h.wake(3 * time.Hour)
	h.park()
	h.stop()
	got := h.ticksOf("hb")
	last := got[len(got)-1]
	if want := clock("2024-03-01T13:10:00Z")[0]; !last.Next.Equal(want) {
		t.Errorf("late tick's Next = %v, want %v: work for it must not be cut short by the old schedule", last.Next, want)
	}
}

func TestUpdate(t *testing.T) {
	h := start(t, t0, time.Second, nil,
		job(t, "same", "every 10 seconds"),
		job(t, "changed", "every 10 seconds"),
		job(t, "removed", "every 10 seconds"),
	)
	h.runUntil(t0.Add(5 * time.Second))
	changed := job(t, "changed", "every 15 seconds")
	// "same" keeps its Name and Key, even with a new *Schedule value.
	h.update(job(t, "same", "every 10 seconds"), changed, job(t, "added", "every 10 seconds"))
	h.runUntil(t0.Add(30 * time.Second))
	h.stop()

	checkTimes(t, "same", h.ticksOf("same"), clock("2024-03-01T10:00:00Z", "2024-03-01T10:00:10Z", "2024-03-01T10:00:20Z", "2024-03-01T10:00:30Z"))
	for i, tk := range h.ticksOf("same") {
		if tk.Sequence != uint64(i+1) || tk.Startup != (i == 0) {
			t.Errorf("same tick %d: sequence %d startup %v; an unchanged job keeps counting", i, tk.Sequence, tk.Startup)
		}
	}
	checkTimes(t, "removed", h.ticksOf("removed"), clock("2024-03-01T10:00:00Z"))
	checkTimes(t, "added", h.ticksOf("added"), clock("2024-03-01T10:00:05Z", "2024-03-01T10:00:10Z", "2024-03-01T10:00:20Z", "2024-03-01T10:00:30Z"))
	if a := h.ticksOf("added"); len(a) == 0 || !a[0].Startup {
		t.Errorf("an added job's first beat should be a start-up beat: %+v", a)
	}
	got := h.ticksOf("changed")
	// Order by time: the old job beat once at start-up, the new one at
	// once on Update and then every 15 seconds.
	sort.SliceStable(got, func(i, j int) bool { return got[i].ScheduledAt.Before(got[j].ScheduledAt) })
	checkTimes(t, "changed", got, clock("2024-03-01T10:00:00Z", "2024-03-01T10:00:05Z", "2024-03-01T10:00:15Z", "2024-03-01T10:00:30Z"))
	if len(got) > 1 && !got[1].Startup {
		t.Errorf("a changed job should beat at once, as at start-up: %+v", got[1])
	}
}

func TestUpdateWithNoChangeKeepsTiming(t *testing.T) {
	jobs := []Job{job(t, "a", "every 1 sec"), job(t, "b", "every 5 minutes")}
	h := start(t, t0, time.Second, nil, jobs...)
	// Updates between two fire times, and right after one.
	for i := 0; i < 3; i++ {
		h.sleepPart(500 * time.Millisecond)
		h.update(jobs...)
		if d := h.park(); d != 500*time.Millisecond {
			t.Fatalf("after the update the scheduler sleeps %s, want the 500ms left", d)
		}
		h.wake(0)
		h.update(jobs...)
	}
	h.runUntil(t0.Add(5 * time.Minute))
	h.stop()
	if n := len(h.ticksOf("a")); n != 301 {
		t.Errorf("a beat %d times in 5 minutes, want 301 (start-up + 300)", n)
	}
	checkTimes(t, "b", h.ticksOf("b"), clock("2024-03-01T10:00:00Z", "2024-03-01T10:05:00Z"))
}

func TestShutdown(t *testing.T) {
	const grace = 7 * time.Second // longer than any sleep, so its After call is recognisable
	tests := []struct {
		name string
		// finish decides how the blocked Run call ends: nil waits for its
		// context only.
		finishInGrace bool
		wantCancelled bool
	}{
		{name: "in-flight beat finishes within the grace period", finishInGrace: true},
		{name: "in-flight beat outlives the grace period and is cancelled", wantCancelled: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			result := make(chan error, 1)
			hook := func(ctx context.Context, tk Tick) {
				select {
				case <-release:
				case <-ctx.Done():
				}
				result <- ctx.Err()
			}
			h := start(t, t0, grace, hook, job(t, "hb", "every 1 hour"))
			h.hold("hb", true)
			h.park()
			h.cancel()
			h.parked = false
			if d := h.park(); d != grace {
				t.Fatalf("after cancel the scheduler waits %s, want the grace period %s", d, grace)
			}
			select {
			case <-h.done:
				t.Fatal("Run returned while a beat was in flight")
			case err := <-result:
				t.Fatalf("the beat ended (%v) before the grace period was over", err)
			default:
			}
			if tc.finishInGrace {
				close(release)
			} else {
				h.wake(0) // the grace period passes
			}
			select {
			case <-h.done:
			case <-time.After(failsafe):
				t.Fatal("Run did not return")
			}
			err := <-result
			if tc.wantCancelled != (err != nil) {
				t.Errorf("the beat's context error = %v, want cancelled: %v", err, tc.wantCancelled)
			}
			logged := strings.Contains(h.logs.String(), "after the shutdown grace period")
			if logged != tc.wantCancelled {
				t.Errorf("grace warning logged = %v, want %v:\n%s", logged, tc.wantCancelled, h.logs.String())
			}
		})
	}
}

func TestShutdownIdleReturnsAtOnce(t *testing.T) {
	h := start(t, t0, time.Hour, nil, job(t, "hb", "every 1 sec"))
	h.runUntil(t0.Add(2 * time.Second))
	h.stop() // fails unless Run returns without the grace period passing
	if n := len(h.ticksOf("hb")); n != 3 {
		t.Errorf("%d beats, want 3", n)
	}
}

func TestNoJobs(t *testing.T) {
	h := start(t, t0, time.Second, nil)
	h.runUntil(t0.Add(3 * time.Second))
	h.update(job(t, "late", "every 1 sec"))
	h.runUntil(t0.Add(5 * time.Second))
	h.stop()
	checkTimes(t, "late", h.ticksOf("late"), clock("2024-03-01T10:00:03Z", "2024-03-01T10:00:04Z", "2024-03-01T10:00:05Z"))
}

func TestSystemClockIsWallClock(t *testing.T) {
	// A monotonic reading would make Before/Sub ignore a wall clock set back.
	if s := (SystemClock{}).Now().String(); strings.Contains(s, "m=") {
		t.Errorf("SystemClock.Now() = %s carries a monotonic reading", s)
	}
}
