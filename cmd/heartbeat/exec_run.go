package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/core/daemon"
	"github.com/seed-e9b80cf6/heartbeat/core/dispatch"
	"github.com/seed-e9b80cf6/heartbeat/core/jobrun"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// execRunner runs the wrapped job and reports each run.
type execRunner struct {
	o        *execOptions
	d        *daemon.Daemon
	logger   hclog.Logger
	out      *lineLock
	command  []string
	router   *signalRouter
	periodic bool
	name     string
	// marker is put in the job's environment so that the processes it
	// leaves behind can be told apart (and reaped) in periodic mode.
	marker string
}

// runOnce runs the job once and returns heartbeat's exit status.
func (r *execRunner) runOnce(scheduled time.Time, seq int) int {
	code, _ := r.run(scheduled, seq)
	return code
}

// run runs the job once: the lock, the start signal, the job, the finish
// signal. It returns the exit status and the signal, if any, that
// heartbeat received meanwhile (in periodic mode it ends the loop).
func (r *execRunner) run(scheduled time.Time, seq int) (int, os.Signal) {
	ctx := r.router.ctx
	base := sdk.Beat{Heartbeat: r.name, Sequence: uint64(seq), ScheduledAt: scheduled}
	if r.periodic {
		// --every/--cron is the job's schedule; a one-shot run has none.
		base.Schedule = sdk.Schedule{Frequency: r.o.every, Cron: r.o.cron, Timezone: r.o.timezone}
	}
	if r.o.lock != "" {
		lock, err := jobrun.AcquireLock(ctx, r.o.lock, r.o.lockWait)
		if err != nil {
			if sig := r.router.stoppedBy(); sig != nil {
				return signalExitCode(sig), sig
			}
			return r.lockFailed(base, err)
		}
		defer func() {
			if err := lock.Release(); err != nil {
				r.notef("releasing the lock %s: %v", r.o.lock, err)
			}
		}()
	}
	// From here on signals go to the job; one that came before stops
	// heartbeat without running it.
	jobSignals := r.router.startJob()
	if sig := r.router.stoppedBy(); sig != nil {
		return signalExitCode(sig), sig
	}
	if !r.o.noRunID {
		base.RunID = daemon.NewRunID()
	}
	// The start signal goes out as the job starts: a monitoring tool that
	// is slow or down never delays the job. The finish waits for it, so
	// the tool sees them in order.
	startFailed := make(chan bool, 1)
	if r.o.noStartPing {
		startFailed <- false
	} else {
		start := base
		start.Signal = sdk.SignalStart
		go func() { startFailed <- r.report(start) }()
	}
	res := jobrun.Run(context.Background(), r.spec(base.RunID, jobSignals))
	r.router.endJob()
	failed := <-startFailed

	finish := base
	finish.Message = res.Message
	finish.CheckLatency = res.Duration
	if !r.o.noOutputInPing {
		finish.Log = outputLog(res)
	}
	code := res.ExitCode
	switch {
	case res.StartErr != nil:
		finish.Signal, finish.ExitCode = r.o.onExecFail.signal(code)
		r.notef("%v", res.StartErr)
	case code == 0 && !res.TimedOut:
		finish.Signal, finish.ExitCode = r.o.onSuccess.signal(code)
	default:
		finish.Signal, finish.ExitCode = r.o.onNonzeroExit.signal(code)
		if res.TimedOut {
			if code == 0 {
				// Stopped by the timeout, even though it then exited 0.
				code = timedOutExitCode
			}
			if finish.Signal == sdk.SignalSuccess {
				finish.Signal, finish.ExitCode = sdk.SignalFail, nil
			}
			r.notef("%s", res.Message)
		}
	}
	r.logger.Info("job finished", "job", r.name, "seq", seq, "result", res.Message, "duration", res.Duration, "signal", finish.Signal.String())
	if r.report(finish) {
		failed = true
	}
	sig := r.router.endReport()
	return r.exitCode(code, failed), sig
}

// spec is the job to run.
func (r *execRunner) spec(runID string, signals <-chan os.Signal) jobrun.Spec {
	env := os.Environ()
	if runID != "" {
		env = append(env, runIDEnv+"="+runID)
	}
	if r.marker != "" {
		env = append(env, r.marker)
	}
	spec := jobrun.Spec{
		Args:      r.command,
		Env:       env,
		Stdout:    r.out.stdout,
		Stderr:    r.out.stderr,
		Timeout:   r.o.timeout,
		KillGrace: r.o.killGrace,
		Signals:   signals,
	}
	if !r.o.noOutputInPing {
		spec.TailLimit = int(r.o.bodyLimit)
	}
	if r.o.quiet || r.o.silent {
		spec.Stdout = nil
	}
	if r.o.silent {
		spec.Stderr = nil
	}
	return spec
}

// lockFailed reports a run that did not take the lock: skipped because
// another run holds it (a log signal), or failed because the lock could
// not be taken at all.
func (r *execRunner) lockFailed(base sdk.Beat, err error) (int, os.Signal) {
	r.router.endJob()
	b := base
	var code int
	if errors.Is(err, jobrun.ErrLocked) {
		r.notef("run skipped: %v", err)
		b.Signal = sdk.SignalLog
		b.Message = "skipped: another run holds the lock " + err.Error()
		code = r.o.skipCode
	} else {
		r.notef("cannot take the lock, the job was not run: %v", err)
		b.Message = "not run: cannot take the lock " + err.Error()
		b.Signal, b.ExitCode = r.o.onExecFail.signal(lockErrorExitCode)
		code = lockErrorExitCode
	}
	failed := r.report(b)
	sig := r.router.endReport()
	return r.exitCode(code, failed), sig
}

// report delivers one beat to every target and says whether any failed.
// Each signal's delivery, retries included, ends at --report-timeout; a
// second signal to heartbeat ends it at once.
func (r *execRunner) report(b sdk.Beat) bool {
	ctx, cancel := context.WithTimeout(r.router.ctx, r.o.reportTimeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	opts := daemon.ReportOptions{
		Deadline:   deadline,
		Quiet:      !r.periodic,
		Policy:     dispatch.Policy{Timeout: r.o.requestTimeout},
		RetriesSet: r.o.set["retries"],
	}
	opts.Policy.Retries = r.o.retries
	outcomes, err := r.d.Report(ctx, b, nil, opts)
	if err != nil {
		r.notef("%v", err)
		return true
	}
	failed := false
	for _, o := range outcomes {
		switch {
		case o.Skipped:
			r.logger.Debug("signal not taken by the target; not sent", "target", o.Target, "signal", o.Signal.String())
		case o.Err != nil:
			failed = true
			if !r.periodic {
				// The periodic mode's dispatcher logs failures itself,
				// once per change.
				r.notef("%s signal not delivered to target %s (plugin %s): %s (%s, %d attempt(s), %s)",
					o.Signal, o.Target, r.d.Plugin(o.Target), boundLine(o.Err.Error()), o.Kind(), o.Attempts, o.Duration.Round(time.Millisecond))
			}
		default:
			r.logger.Debug("signal delivered", "target", o.Target, "signal", o.Signal.String(), "result", o.Result.Detail, "attempts", o.Attempts)
		}
	}
	return failed
}

// exitCode is heartbeat's exit status for a run whose status is code:
// code itself, or --report-failure-exit-code when a signal was not
// delivered.
func (r *execRunner) exitCode(code int, reportFailed bool) int {
	if reportFailed && r.o.reportFailCode != 0 {
		r.notef("exit status %d (--report-failure-exit-code): a signal was not delivered; the job's exit status was %d", r.o.reportFailCode, code)
		return r.o.reportFailCode
	}
	return code
}

// notef writes one line of heartbeat's own to stderr, whole.
func (r *execRunner) notef(format string, args ...any) {
	fmt.Fprintf(r.out.stderr, "heartbeat exec: %s\n", boundLine(fmt.Sprintf(format, args...)))
}

// maxNote bounds a line of heartbeat's own: errors quote plugins and
// servers.
const maxNote = 2048

// boundLine keeps s on one line, at most maxNote bytes.
func boundLine(s string) string {
	s = oneLine(s)
	if len(s) > maxNote {
		cut := maxNote
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// outputLog is the output tail sent with the finish signal; when earlier
// output was dropped a first line says how much.
func outputLog(res jobrun.Result) []byte {
	if res.OutputTotal <= int64(len(res.Output)) {
		return res.Output
	}
	head := "[… " + strconv.FormatInt(res.OutputTotal-int64(len(res.Output)), 10) + " earlier bytes of output not kept: the last " +
		strconv.Itoa(len(res.Output)) + " bytes follow …]\n"
	return append([]byte(head), res.Output...)
}
