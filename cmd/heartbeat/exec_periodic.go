package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
)

// maxSleep is the longest the periodic loop sleeps at a time, so that a
// suspend or a clock jump is noticed quickly, as the daemon does.
const maxSleep = time.Second

// loop runs the job at once, then at each fire time of sched, as the daemon fires a
// heartbeat (schedule.NextBeat), and at once on SIGALRM. Runs never
// overlap: a fire time or a SIGALRM during a run is skipped and logged. A
// signal between runs ends the loop (exit 0); one during a run is
// forwarded to the job, and the loop ends once its outcome is reported.
func (r *execRunner) loop(sched *schedule.Schedule, alarms <-chan os.Signal) int {
	ctx := r.router.ctx
	r.marker = execMarkerEnv + "=" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	go r.d.Host().Supervise(ctx)
	expr := r.o.every
	if expr == "" {
		expr = r.o.cron
	}
	type outcome struct {
		code int
		stop os.Signal
	}
	done := make(chan outcome, 1)
	running, skipped, seq, last := false, 0, 0, 0
	var orphans map[int]bool
	start := func(at time.Time) {
		running, skipped = true, 0
		seq++
		go func(seq int) {
			code, sig := r.run(at, seq)
			done <- outcome{code, sig}
		}(seq)
	}
	now := time.Now()
	next, ok, _ := sched.NextBeat(now, now)
	if !ok {
		r.notef("--every/--cron %s never fires", boundText(expr))
		return exitInvalid
	}
	r.logger.Info("running the job periodically: now, then at each fire time", "job", r.name, "frequency", expr, "next", formatTime(next))
	// A first run at start-up, as runitor and the daemon do.
	start(now)
	timer := time.NewTimer(min(time.Until(next), maxSleep))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			if running {
				o := <-done
				last = o.code
			}
			r.logger.Info("stopped by a signal", "signal", fmt.Sprint(r.router.stoppedBy()))
			return exitOK
		case o := <-done:
			running = false
			last = o.code
			orphans = reapOrphans(r.marker, orphans)
			if o.stop != nil {
				r.logger.Info("stopped by a signal after the run", "signal", o.stop.String(), "exit_status", last)
				return exitOK
			}
			if !ok {
				r.logger.Info("the frequency never fires again; stopping", "frequency", expr)
				return last
			}
		case <-alarms:
			if running {
				r.logger.Warn("SIGALRM: a run is in progress; not starting another", "job", r.name, "seq", seq)
				continue
			}
			r.logger.Info("SIGALRM: running the job now", "job", r.name)
			start(time.Now())
		case <-timer.C:
			now := time.Now()
			if !running {
				orphans = reapOrphans(r.marker, orphans)
			}
			if ok && !now.Before(next) {
				if running {
					skipped++
					if skipped == 1 {
						r.logger.Warn("the previous run is still in progress: this run is skipped", "job", r.name, "seq", seq, "scheduled_at", formatTime(next))
					} else {
						r.logger.Debug("the previous run is still in progress: this run is skipped", "job", r.name, "seq", seq, "scheduled_at", formatTime(next))
					}
				} else {
					start(next)
				}
				next, ok, _ = sched.NextBeat(next, now)
				if !ok && !running {
					r.logger.Info("the frequency never fires again; stopping", "frequency", expr)
					return last
				}
				if ok {
					r.logger.Debug("next run", "job", r.name, "at", formatTime(next))
				}
			}
			wait := maxSleep
			if ok {
				wait = min(max(time.Until(next), 0), maxSleep)
			}
			timer.Reset(wait)
		}
	}
}
