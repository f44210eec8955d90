// Package scheduler fires the ticks of every heartbeat from one timer.
//
// Fire times follow the wall clock (later.js semantics), and a heartbeat
// never fires sooner than schedule.MinInterval after its previous fire,
// even when later.js would fire with no delay. On Linux the loop sleeps
// until the next fire time on a timer of the wall clock (a timerfd), which
// expires at that time across a suspend and wakes the loop when the clock
// is set; elsewhere it never sleeps longer than maxSleep, so a suspend or a
// clock jump is noticed within a second. After a jump forward a heartbeat
// beats once and goes on from the new time; after a jump back nothing is
// repeated.
package scheduler

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/workpool"
)

// maxSleep bounds one wait without a wall timer, so wall-clock jumps are
// noticed quickly; a clock set back by more than this re-plans every
// heartbeat.
const maxSleep = time.Second

// Job is one heartbeat's schedule.
type Job struct {
	Name     string
	Schedule *schedule.Schedule
	// Key identifies the job's definition: a job whose key is unchanged on
	// Update keeps its timing and sequence.
	Key string
}

// Tick is one due beat of one heartbeat.
type Tick struct {
	Heartbeat string
	// Sequence counts this heartbeat's ticks from 1.
	Sequence uint64
	// ScheduledAt is when the tick was due; for the start-up beat, the start.
	ScheduledAt time.Time
	// Next is the heartbeat's following fire time (zero when none): work for
	// this tick should be finished by then.
	Next time.Time
	// Startup marks the beat sent when the heartbeat starts.
	Startup bool
}

// Options configure a Scheduler.
type Options struct {
	Clock  Clock
	Logger hclog.Logger
	// Run handles one tick. It runs in its own goroutine; a tick of a
	// heartbeat whose previous tick still runs is skipped.
	Run func(ctx context.Context, t Tick)
	// Start, when set, is tried first: it begins a tick without blocking
	// and reports that it took it, then calls done once the tick has ended
	// (a tick still counts as running until then). A tick it does not take
	// goes to Run.
	Start func(ctx context.Context, t Tick, done func()) bool
	// Grace is how long Run calls in flight may finish after the scheduler
	// stops before their context is cancelled.
	Grace time.Duration
	// Planned, when set, is told each heartbeat's next fire time whenever
	// it is computed (ok false: the heartbeat fires no more). It is called
	// from the scheduler's loop and must not block.
	Planned func(heartbeat string, next time.Time, ok bool)
	// Skipped, when set, is told each tick skipped because the previous
	// tick of its heartbeat still runs. It must not block.
	Skipped func(t Tick)
}

// Scheduler fires ticks. Create it with New, start it with Run.
type Scheduler struct {
	opts   Options
	update chan []Job

	mu       sync.Mutex
	inFlight map[string]bool
	skipped  map[string]uint64
	// streak counts the ticks skipped in a row: only the first of a run
	// of skips is logged as a warning.
	streak map[string]uint64
	// workers run the ticks: a tick's goroutine is reused by later ticks
	// instead of growing a fresh stack through the beat's delivery.
	workers *workpool.Pool
}

// idleTickWorkers is how many goroutines stay parked between ticks.
const idleTickWorkers = 4096

// New returns a scheduler; nothing fires until Run.
func New(opts Options) *Scheduler {
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	return &Scheduler{opts: opts, update: make(chan []Job), inFlight: map[string]bool{}, skipped: map[string]uint64{}, streak: map[string]uint64{}, workers: workpool.New(idleTickWorkers)}
}

type entry struct {
	job   Job
	next  time.Time
	ok    bool // false: never fires again
	seq   uint64
	index int
	// heldRun counts the fires in a row that later.js would have sent
	// sooner; warned: the zero-delay warning was logged for this job.
	heldRun int
	warned  bool
}

type entryHeap []*entry

func (h entryHeap) Len() int { return len(h) }
func (h entryHeap) Less(i, j int) bool {
	if h[i].ok != h[j].ok {
		return h[i].ok
	}
	return h[i].next.Before(h[j].next)
}
func (h entryHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *entryHeap) Push(x any)   { e := x.(*entry); e.index = len(*h); *h = append(*h, e) }
func (h *entryHeap) Pop() any     { old := *h; e := old[len(old)-1]; *h = old[:len(old)-1]; return e }
func (h entryHeap) peek() *entry  { return h[0] }

// Run fires jobs until ctx is done, then waits up to Grace for ticks in
// flight. Each job beats once at start, then on its schedule.
func (s *Scheduler) Run(ctx context.Context, jobs []Job) {
	defer s.workers.Close()
	runCtx, cancelRuns := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRuns()
	var wg sync.WaitGroup
	h := &entryHeap{}
	byName := map[string]*entry{}
	add := func(j Job, now time.Time) {
		e := &entry{job: j}
		byName[j.Name] = e
		heap.Push(h, e)
		s.fire(runCtx, &wg, h, e, now, true)
	}
	now := s.now()
	for _, j := range jobs {
		add(j, now)
	}
	last := now
	wt := s.wallTimer()
	defer func() {
		if wt != nil {
			_ = wt.Close()
		}
	}()
	for {
		wait := maxSleep
		now = s.now()
		if now.Before(last.Add(-maxSleep)) {
			s.clockWentBack(h, last, now)
		}
		last = now
		due := h.Len() > 0 && h.peek().ok
		if due {
			if d := h.peek().next.Sub(now); d < wait {
				wait = d
			}
		}
		// With a wall timer the loop sleeps until the next fire time, or
		// for ever when none is planned, and wakes when the clock is set.
		var woken <-chan struct{}
		var after <-chan time.Time
		if wt != nil && wait > 0 {
			var at time.Time
			if due {
				at = h.peek().next
			}
			if err := wt.Arm(at); err != nil {
				s.opts.Logger.Warn("cannot sleep until the next fire time; checking the clock every second instead", "error", err.Error())
				_ = wt.Close()
				wt = nil
			} else {
				woken = wt.C()
			}
		}
		if wt == nil {
			after = s.opts.Clock.After(wait)
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
				s.drain(&wg, cancelRuns)
				return
			case newJobs := <-s.update:
				s.apply(h, byName, newJobs, add)
				continue
			case <-after:
			case <-woken:
			}
		}
		now = s.now()
		for h.Len() > 0 && h.peek().ok && !h.peek().next.After(now) {
			s.fire(runCtx, &wg, h, h.peek(), now, false)
		}
	}
}

// wallTimer returns the clock's wall timer, or nil when it has none or it
// cannot be made: then the loop sleeps at most maxSleep at a time.
func (s *Scheduler) wallTimer() wallTimer {
	c, ok := s.opts.Clock.(wallTimerClock)
	if !ok {
		return nil
	}
	wt, err := c.newWallTimer()
	if err != nil {
		s.opts.Logger.Debug("no wall-clock timer; checking the clock every second", "error", err.Error())
		return nil
	}
	return wt
}

// now reads the wall clock. A monotonic clock reading is dropped: with one,
// Before and Sub would compare monotonic times and a wall clock set back
// would go unnoticed.
func (s *Scheduler) now() time.Time { return s.opts.Clock.Now().Round(0) }

// Update replaces the jobs of a running scheduler. Jobs whose Name and Key
// are unchanged keep their timing: no double beat, no skipped beat. New
// jobs beat at once, as at start-up. It blocks until Run takes the jobs.
func (s *Scheduler) Update(ctx context.Context, jobs []Job) {
	select {
	case s.update <- jobs:
	case <-ctx.Done():
	}
}

func (s *Scheduler) apply(h *entryHeap, byName map[string]*entry, jobs []Job, add func(Job, time.Time)) {
	keep := map[string]bool{}
	now := s.now()
	for _, j := range jobs {
		keep[j.Name] = true
		if e, ok := byName[j.Name]; ok && e.job.Key == j.Key {
			e.job = j
			continue
		}
		if e, ok := byName[j.Name]; ok {
			heap.Remove(h, e.index)
		}
		add(j, now)
	}
	for name, e := range byName {
		if !keep[name] {
			heap.Remove(h, e.index)
			delete(byName, name)
		}
	}
}

// fire starts one tick of e (unless its previous one still runs) and
// computes e's next fire time from now, as later.js re-arms its timer from
// the moment it fired, never sooner than schedule.MinInterval after it.
func (s *Scheduler) fire(ctx context.Context, wg *sync.WaitGroup, h *entryHeap, e *entry, now time.Time, startup bool) {
	scheduled := now
	if !startup {
		scheduled = e.next
	}
	s.plan(e, scheduled, now)
	e.seq++
	heap.Fix(h, e.index)
	t := Tick{Heartbeat: e.job.Name, Sequence: e.seq, ScheduledAt: scheduled, Startup: startup}
	if e.ok {
		t.Next = e.next
	}
	s.mu.Lock()
	if s.inFlight[e.job.Name] {
		s.skipped[e.job.Name]++
		s.streak[e.job.Name]++
		n, streak := s.skipped[e.job.Name], s.streak[e.job.Name]
		s.mu.Unlock()
		if s.opts.Skipped != nil {
			s.opts.Skipped(t)
		}
		args := []any{"heartbeat", e.job.Name, "scheduled_at", scheduled.UTC().Format(time.RFC3339Nano), "skipped_total", n}
		if streak == 1 {
			s.opts.Logger.Warn("previous beat still in progress; skipping this one (further skips are logged at debug level until a beat starts)", args...)
		} else {
			s.opts.Logger.Debug("previous beat still in progress; skipping this one", args...)
		}
		return
	}
	streak := s.streak[e.job.Name]
	delete(s.streak, e.job.Name)
	s.inFlight[e.job.Name] = true
	s.mu.Unlock()
	if streak > 0 {
		s.opts.Logger.Info("previous beat finished; beating again", "heartbeat", e.job.Name, "skipped", streak)
	}
	wg.Add(1)
	ended := func() {
		s.mu.Lock()
		delete(s.inFlight, t.Heartbeat)
		s.mu.Unlock()
		wg.Done()
	}
	if s.opts.Start != nil && s.opts.Start(ctx, t, ended) {
		return
	}
	s.workers.Go(func() {
		defer ended()
		s.opts.Run(ctx, t)
	})
}

// plan sets e's next fire time after a fire due at prev that ran at now.
// Conditions that repeat with every fire are logged once per job.
func (s *Scheduler) plan(e *entry, prev, now time.Time) {
	var held bool
	e.next, e.ok, held = e.job.Schedule.NextBeat(prev, now)
	if s.opts.Planned != nil {
		s.opts.Planned(e.job.Name, e.next, e.ok)
	}
	if !e.ok {
		s.opts.Logger.Warn("heartbeat has no further fire time; it stops beating", "heartbeat", e.job.Name, "frequency", e.job.Schedule.String())
	}
	if held {
		e.heldRun++
	} else {
		e.heldRun = 0
	}
	if e.heldRun >= schedule.HeldRun && !e.warned {
		e.warned = true
		s.opts.Logger.Warn("later.js would fire this frequency less than a second after each fire; beating once a second instead (see heartbeat validate)", "heartbeat", e.job.Name, "frequency", e.job.Schedule.String())
	}
}

// clockWentBack re-plans every heartbeat from the new wall-clock time:
// waiting for the old fire times would leave the monitoring tool without
// beats for as long as the clock went back.
func (s *Scheduler) clockWentBack(h *entryHeap, before, now time.Time) {
	s.opts.Logger.Warn("the system clock went back; re-planning every heartbeat from the new time", "by", before.Sub(now).Round(time.Millisecond))
	for _, e := range *h {
		if e.ok {
			s.plan(e, now, now)
		}
	}
	heap.Init(h)
}

func (s *Scheduler) drain(wg *sync.WaitGroup, cancel context.CancelFunc) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-s.opts.Clock.After(s.opts.Grace):
		s.opts.Logger.Warn("beats still in progress after the shutdown grace period; cancelling them", "grace", s.opts.Grace)
		cancel()
		<-done
	}
}
