package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// pingType is the signal sent for one kind of outcome, named as runitor
// names it (-on-success, -on-nonzero-exit, -on-exec-fail).
type pingType int

const (
	// pingExitCode sends the exit status itself: success for 0, fail
	// otherwise, with the code (Healthchecks' /<code>).
	pingExitCode pingType = iota
	pingSuccess
	pingFail
	pingLog
)

var pingTypeNames = [...]string{pingExitCode: "exit-code", pingSuccess: "success", pingFail: "fail", pingLog: "log"}

func (p pingType) String() string { return pingTypeNames[p] }

// signal is the beat's signal and exit code for an outcome whose status is
// code.
func (p pingType) signal(code int) (sdk.Signal, *int) {
	switch p {
	case pingSuccess:
		return sdk.SignalSuccess, nil
	case pingFail:
		return sdk.SignalFail, nil
	case pingLog:
		return sdk.SignalLog, nil
	}
	if code == 0 {
		return sdk.SignalSuccess, &code
	}
	return sdk.SignalFail, &code
}

type pingTypeFlag struct{ p *pingType }

func (f pingTypeFlag) String() string {
	if f.p == nil {
		return ""
	}
	return f.p.String()
}

func (f pingTypeFlag) Set(s string) error {
	for i, name := range pingTypeNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			*f.p = pingType(i)
			return nil
		}
	}
	return fmt.Errorf("use success, fail, log or exit-code")
}

// lineLock makes the job's output and heartbeat's own lines reach the
// terminal whole: the job's output is written line by line (jobrun), and
// heartbeat's logger writes a line per call, all under one lock.
type lineLock struct {
	mu     sync.Mutex
	stdout io.Writer
	stderr io.Writer
}

func newLineLock(stdout, stderr io.Writer) *lineLock {
	l := &lineLock{}
	l.stdout = lockedWriter{l: l, w: stdout}
	l.stderr = lockedWriter{l: l, w: stderr}
	return l
}

type lockedWriter struct {
	l *lineLock
	w io.Writer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	return w.w.Write(p)
}

// signalRouter receives heartbeat's signals. While a job runs they are
// forwarded to it; before it runs, and between runs in periodic mode, the
// first one stops heartbeat (ctx is cancelled); after a job, while its
// outcome is being reported, the first is noted and the second stops the
// reporting.
type signalRouter struct {
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	job     chan os.Signal // set while a job runs
	reports bool           // set while an outcome is being reported
	pending os.Signal      // a signal received while reporting
	stopped os.Signal
	done    chan struct{}
}

func newSignalRouter(parent context.Context, sigs <-chan os.Signal) *signalRouter {
	ctx, cancel := context.WithCancel(parent)
	r := &signalRouter{ctx: ctx, cancel: cancel, done: make(chan struct{})}
	go r.route(sigs)
	return r
}

func (r *signalRouter) route(sigs <-chan os.Signal) {
	for {
		select {
		case <-r.done:
			return
		case sig := <-sigs:
			r.handle(sig)
		}
	}
}

func (r *signalRouter) handle(sig os.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.job != nil:
		select {
		case r.job <- sig:
		default: // the job has a backlog of signals already
		}
		if r.stopped == nil {
			// In periodic mode a signal for the job also ends the loop
			// once its outcome is reported.
			r.pending = sig
		}
	case r.reports && r.pending == nil:
		r.pending = sig
	default:
		if r.stopped == nil {
			r.stopped = sig
			r.cancel()
		}
	}
}

// startJob returns the channel jobrun forwards signals from, until endJob.
func (r *signalRouter) startJob() <-chan os.Signal {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.job = make(chan os.Signal, 8)
	r.pending = nil
	return r.job
}

// endJob stops forwarding; the signals that arrive while the outcome is
// being reported are noted (the first) or stop heartbeat (the second).
func (r *signalRouter) endJob() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.job = nil
	r.reports = true
}

// endReport ends the report phase. It returns the signal received during
// the job or its report, if any: in periodic mode it ends the loop.
func (r *signalRouter) endReport() os.Signal {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reports = false
	sig := r.pending
	r.pending = nil
	return sig
}

// stoppedBy is the signal that cancelled ctx, nil when none did.
func (r *signalRouter) stoppedBy() os.Signal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopped
}

func (r *signalRouter) close() {
	close(r.done)
	r.cancel()
}
