// Package jobrun runs one command the way a shell would, for a job wrapper:
// its own process group, exit codes as a shell reports them, signals
// forwarded, a timeout that ends the whole group, live output line by line
// and a bounded tail of it.
//
// Exit codes follow bash: the job's status; 128+N when signal N killed it;
// 127 when the command is not found, or found but a file it needs to run
// is missing (its #! interpreter or dynamic loader: "required file not
// found"); 126 when it cannot be executed (no permission, a directory, not
// a program for this system). One difference: a text file without a #!
// line is not run as a shell script, as bash would; it is an exec format
// error (126), since a job is never run through a shell.
//
// The job runs in a process group of its own. When it exits on its own,
// nothing it left behind is killed; after a timeout or a cancel, the whole
// group is. On Linux, a job started from a terminal in the foreground gets
// the terminal, as a shell's foreground job does (see terminal). On Windows
// a job object stands in for the process group (see proc_windows.go).
package jobrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// DefaultKillGrace is how long a job has between SIGTERM and SIGKILL when
// Spec.KillGrace is 0.
const DefaultKillGrace = 10 * time.Second

// drainTime bounds how long the output is read after the job's leader has
// exited: a child it left running may hold the pipes open for good.
const drainTime = 2 * time.Second

// maxName bounds a command name quoted in a message.
const maxName = 200

// Spec is one job to run.
type Spec struct {
	// Args[0] is looked up in PATH as exec.LookPath does (heartbeat's own
	// PATH); a name with a slash is a path, relative to Dir. The command is
	// never run through a shell.
	Args []string
	// Env is the job's environment; nil inherits heartbeat's.
	Env []string
	// Dir is the job's working directory; "" is heartbeat's.
	Dir string
	// Stdin is the job's standard input; nil inherits heartbeat's
	// (os.Stdin), so that jobs fed by a pipe, or typed at a terminal, work.
	// A reader that is not a file is copied to the job until it ends or the
	// job exits.
	Stdin io.Reader
	// Stdout receives a live copy of the job's standard output, whole lines
	// as they complete (a line longer than 64 KiB in pieces of 64 KiB, and a
	// last line without a newline when the job ends); nil discards it. A
	// write that fails stops the copy, not the job; Run returns once the
	// writes it made have returned.
	Stdout io.Writer
	// Stderr is the same for the job's standard error.
	Stderr io.Writer
	// TailLimit is how many bytes of the combined stdout and stderr are kept
	// in Result.Output: the last ones, in the order they arrived. 0 keeps
	// none.
	TailLimit int
	// Timeout ends an overrunning job: SIGTERM to its process group, then
	// SIGKILL after KillGrace. 0 is no timeout.
	Timeout time.Duration
	// KillGrace is the time between SIGTERM and SIGKILL; 0 is
	// DefaultKillGrace.
	KillGrace time.Duration
	// Signals are signals heartbeat received (the caller calls
	// signal.Notify), forwarded to the job's process group while the job
	// runs. nil forwards none.
	Signals <-chan os.Signal
}

// Result is how a job ended.
type Result struct {
	// ExitCode is the job's status as a shell reports it: its exit status;
	// 128+N when signal N killed it; 127 when the command was not found;
	// 126 when it was found but cannot be executed.
	ExitCode int
	// Signaled names the signal that killed the job ("SIGTERM"); "" when it
	// exited on its own or never started.
	Signaled string
	// StartErr is set when the command could not be started (ExitCode is
	// then 127 or 126); its text is worded for the user and bounded.
	StartErr error
	// TimedOut is set when Spec.Timeout expired, whatever the job did then.
	TimedOut bool
	// Canceled is set when the caller's context ended while the job ran.
	Canceled bool
	// Forwarded names the signals forwarded to the job, in order.
	Forwarded []string
	// Started is when the job was started.
	Started time.Time
	// Duration is the wall time from start to exit (0 when it never
	// started).
	Duration time.Duration
	// Output is the tail of the combined output, at most Spec.TailLimit
	// bytes; when earlier output was dropped it starts at a UTF-8 character
	// boundary.
	Output []byte
	// OutputTotal is how many bytes the job wrote in all, kept or not.
	OutputTotal int64
	// UserCPU and SystemCPU are the CPU time of the job and of the children
	// it waited for, when the OS reports it.
	UserCPU, SystemCPU time.Duration
	// Message is one line for people and monitoring tools: "exit code 0",
	// "killed by signal SIGKILL", "command not found: foo", "timed out after
	// 5s: sent SIGTERM, then SIGKILL after 10s"...
	Message string
}

// Run runs the job and waits for it. A context that ends is treated like a
// timeout (SIGTERM to the group, SIGKILL after KillGrace) and the result
// says "cancelled". Run always returns a Result; a job that cannot start
// has StartErr set.
func Run(ctx context.Context, spec Spec) Result {
	if len(spec.Args) == 0 || spec.Args[0] == "" {
		err := errors.New("no command given")
		return Result{ExitCode: 127, StartErr: err, Message: err.Error()}
	}
	path, code, err := resolve(spec.Args[0], spec.Dir)
	if err != nil {
		return Result{ExitCode: code, StartErr: err, Message: err.Error()}
	}
	grace := spec.KillGrace
	if grace <= 0 {
		grace = DefaultKillGrace
	}

	outR, outW, err := os.Pipe()
	if err != nil {
		return startFailed(126, spec.Args[0], err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return startFailed(126, spec.Args[0], err)
	}
	cmd := &exec.Cmd{Path: path, Args: spec.Args, Env: spec.Env, Dir: spec.Dir, Stdout: outW, Stderr: errW}
	stdin, feed, err := stdinFor(spec.Stdin)
	if err != nil {
		outR.Close()
		outW.Close()
		errR.Close()
		errW.Close()
		return startFailed(126, spec.Args[0], err)
	}
	cmd.Stdin = stdin
	term := prepare(cmd, stdin)

	started := time.Now()
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if feed != nil {
		stdin.Close()
		defer feed.Close()
	}
	if err != nil {
		outR.Close()
		errR.Close()
		code, err := classifyStart(spec.Args[0], err)
		return Result{ExitCode: code, StartErr: err, Message: err.Error()}
	}
	grp := attach(cmd)
	defer grp.release()
	if feed != nil {
		go feedStdin(feed, spec.Stdin)
	}

	tail := &tailBuffer{limit: spec.TailLimit}
	var pumps sync.WaitGroup
	pumps.Add(2)
	go pump(&pumps, outR, tail, spec.Stdout)
	go pump(&pumps, errR, tail, spec.Stderr)

	exited := make(chan func() error, 1)
	go func() { exited <- awaitExit(cmd, term) }()

	res := Result{Started: started}
	st := supervise(ctx, spec, grace, grp, exited, &res)

	drain(&pumps, outR, errR)
	res.Output, res.OutputTotal = tail.bytes()
	ps := cmd.ProcessState
	if ps == nil {
		// Not expected once the job has started; a shell would say the
		// job failed.
		res.ExitCode = 1
		res.Message = fmt.Sprintf("exit status unknown: %v", st.waitErr)
		return res
	}
	res.UserCPU, res.SystemCPU = ps.UserTime(), ps.SystemTime()
	res.ExitCode, res.Signaled = exitStatus(ps)
	res.Message = st.message(res, spec.Timeout, grace)
	return res
}

// stopState is what Run did to end the job.
type stopState struct {
	why      string // "timeout" or "cancel"; "" when the job ended on its own
	killed   bool   // killed after the grace
	killWord string // how ("SIGKILL")
	waitErr  error  // from reaping the leader
	stopWord string // the signal sent first ("SIGTERM")
}

// supervise forwards signals and enforces the timeout and ctx until the
// job's leader has exited, then reaps it; after a timeout or cancel it also
// gives what is left of the group until the end of the grace, then kills it.
func supervise(ctx context.Context, spec Spec, grace time.Duration, grp group, exited <-chan func() error, res *Result) stopState {
	var st stopState
	var timeoutC, graceC <-chan time.Time
	if spec.Timeout > 0 {
		t := time.NewTimer(spec.Timeout)
		defer t.Stop()
		timeoutC = t.C
	}
	sigs := spec.Signals
	done := ctx.Done()
	var graceTimer *time.Timer
	defer func() {
		if graceTimer != nil {
			graceTimer.Stop()
		}
	}()
	stop := func(why string) {
		if st.why != "" {
			return
		}
		st.why = why
		st.stopWord = grp.terminate()
		graceTimer = time.NewTimer(grace)
		graceC = graceTimer.C
	}
	for {
		select {
		case reap := <-exited:
			res.Duration = time.Since(res.Started)
			st.waitErr = reap()
			if st.why != "" && !st.killed {
				// The leader is gone; what it started gets the rest of
				// the grace, then the group is killed.
				for grp.alive() {
					select {
					case <-graceC:
						st.killWord = grp.kill()
						st.killed = true
					case <-time.After(50 * time.Millisecond):
						continue
					}
					break
				}
			}
			return st
		case s, ok := <-sigs:
			if !ok {
				sigs = nil
				continue
			}
			if grp.signal(s) == nil {
				res.Forwarded = append(res.Forwarded, signalName(s))
			}
		case <-timeoutC:
			res.TimedOut = true
			stop("timeout")
		case <-done:
			done = nil
			res.Canceled = true
			stop("cancel")
		case <-graceC:
			graceC = nil
			st.killWord = grp.kill()
			st.killed = true
		}
	}
}

// message words the outcome in one line.
func (st stopState) message(res Result, timeout, grace time.Duration) string {
	var end string
	if res.Signaled != "" {
		end = "killed by signal " + res.Signaled
	} else {
		end = fmt.Sprintf("exit code %d", res.ExitCode)
	}
	var b strings.Builder
	switch st.why {
	case "timeout":
		fmt.Fprintf(&b, "timed out after %s: ", timeout)
	case "cancel":
		b.WriteString("cancelled: ")
	}
	if st.why != "" {
		b.WriteString("sent " + st.stopWord)
		if st.killed {
			fmt.Fprintf(&b, ", then %s after %s", st.killWord, grace)
		}
		if !st.killed || res.Signaled != st.killWord {
			b.WriteString("; " + end)
		}
	} else {
		b.WriteString(end)
	}
	if len(res.Forwarded) > 0 {
		b.WriteString(" (forwarded " + strings.Join(res.Forwarded, ", ") + ")")
	}
	return b.String()
}

// drain waits a bounded time for the output to end, then stops reading: a
// child the job left behind may keep the pipes open.
func drain(pumps *sync.WaitGroup, files ...*os.File) {
	done := make(chan struct{})
	go func() { pumps.Wait(); close(done) }()
	t := time.NewTimer(drainTime)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	for _, f := range files {
		f.Close()
	}
	<-done
}

// stdinFor is the job's standard input: heartbeat's own when in is nil, in
// itself when it is a file, else a pipe that Run feeds from in. os/exec
// would copy a reader itself, but its Wait waits for that copy, and a
// reader that never ends would hold Run forever.
func stdinFor(in io.Reader) (stdin, feed *os.File, err error) {
	switch in := in.(type) {
	case nil:
		return os.Stdin, nil, nil
	case *os.File:
		return in, nil, nil
	}
	return os.Pipe()
}

// feedStdin copies in to the job until in ends or Run closes the pipe once
// the job has exited. A Read that never returns keeps this goroutine until
// it does: nothing can interrupt an io.Reader.
func feedStdin(w *os.File, in io.Reader) {
	_, _ = io.Copy(w, in)
	w.Close()
}

func startFailed(code int, name string, err error) Result {
	err = fmt.Errorf("cannot start %s: %w", quoteName(name), err)
	return Result{ExitCode: code, StartErr: err, Message: err.Error()}
}

// quoteName bounds a command name for a message and makes it one line.
func quoteName(name string) string {
	if len(name) > maxName {
		name = strings.ToValidUTF8(name[:maxName], "") + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, name)
}
