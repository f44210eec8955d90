//go:build unix

package jobrun

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// patience bounds every wait in these tests: far more than any job here
// needs, even on a loaded machine.
const patience = 60 * time.Second

// lines records what a job writes to one stream and lets a test wait for a
// line.
type lines struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	notify chan struct{}
}

func newLines() *lines { return &lines{notify: make(chan struct{}, 1)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf.Write(p)
	l.writes++
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor waits until the stream holds want.
func (l *lines) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(patience)
	for !strings.Contains(l.String(), want) {
		select {
		case <-l.notify:
		case <-deadline:
			t.Fatalf("%q never appeared; got %q", want, l.String())
		}
	}
}

// runAsync runs spec in the background.
func runAsync(ctx context.Context, spec Spec) <-chan Result {
	ch := make(chan Result, 1)
	go func() { ch <- Run(ctx, spec) }()
	return ch
}

func await(t *testing.T, ch <-chan Result) Result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(patience):
		t.Fatal("Run did not return")
	}
	return Result{}
}

// gone reports whether pid no longer exists (reaped, not a zombie).
func gone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !gone(pid) {
		if st, _, ok := procStateOf(pid); ok && st == 'Z' {
			// An orphan reaped late by an init that is slow to: dead.
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d still exists", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCodesAsBash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	noexec := writeFile(t, dir, "noexec", "#!/bin/sh\necho hi\n", 0o644)
	badInterp := writeFile(t, dir, "badinterp", "#!/nonexistent/interpreter\necho hi\n", 0o755)
	interpNoexec := writeFile(t, dir, "interpnoexec", "#!"+noexec+"\necho hi\n", 0o755)
	binary := writeFile(t, dir, "binary", "\x7fELF\x00\x00garbage\x00\x01\x02", 0o755)
	noShebang := writeFile(t, dir, "noshebang", "echo hi\n", 0o755)
	subdir := filepath.Join(dir, "subdir")
	if err := os.Mkdir(subdir, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		args     []string
		code     int
		signaled string
		message  string
		startErr bool
		// differs is set where heartbeat does not do what bash does, with
		// the reason.
		differs string
	}{
		{name: "success", args: []string{"sh", "-c", "exit 0"}, code: 0, message: "exit code 0"},
		{name: "exit 3", args: []string{"sh", "-c", "exit 3"}, code: 3, message: "exit code 3"},
		{name: "exit 255", args: []string{"sh", "-c", "exit 255"}, code: 255, message: "exit code 255"},
		{name: "kill -TERM self", args: []string{"sh", "-c", "kill -TERM $$"}, code: 143, signaled: "SIGTERM", message: "killed by signal SIGTERM"},
		{name: "kill -KILL self", args: []string{"sh", "-c", "kill -KILL $$"}, code: 137, signaled: "SIGKILL", message: "killed by signal SIGKILL"},
		{name: "command not found", args: []string{"heartbeat-no-such-command-xyz"}, code: 127, startErr: true, message: "command not found: heartbeat-no-such-command-xyz"},
		{name: "missing path", args: []string{filepath.Join(dir, "missing")}, code: 127, startErr: true, message: "no such file or directory: "},
		{name: "not executable", args: []string{noexec}, code: 126, startErr: true, message: "permission denied: "},
		{name: "directory", args: []string{subdir}, code: 126, startErr: true, message: "is a directory: "},
		{name: "missing interpreter", args: []string{badInterp}, code: 127, startErr: true, message: "required file not found"},
		{name: "interpreter not executable", args: []string{interpNoexec}, code: 126, startErr: true, message: "permission denied: "},
		{name: "binary for another system", args: []string{binary}, code: 126, startErr: true, message: "exec format error: "},
		{name: "script without #!", args: []string{noShebang}, code: 126, startErr: true, message: "a script needs a #! line",
			differs: "bash runs a text file without #! as a bash script; heartbeat never runs a command through a shell"},
	}
	_, bashErr := exec.LookPath("bash")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := Run(context.Background(), Spec{Args: tc.args, Stdin: strings.NewReader("")})
			if res.ExitCode != tc.code {
				t.Errorf("exit code %d, want %d (%s)", res.ExitCode, tc.code, res.Message)
			}
			if res.Signaled != tc.signaled {
				t.Errorf("Signaled = %q, want %q", res.Signaled, tc.signaled)
			}
			if !strings.Contains(res.Message, tc.message) {
				t.Errorf("message %q does not contain %q", res.Message, tc.message)
			}
			if (res.StartErr != nil) != tc.startErr {
				t.Errorf("StartErr = %v, want set: %v", res.StartErr, tc.startErr)
			}
			if res.StartErr != nil && (res.Duration != 0 || !res.Started.IsZero()) {
				t.Errorf("a job that never started has Started %v, Duration %v", res.Started, res.Duration)
			}
			if bashErr != nil || tc.differs != "" {
				return
			}
			// The same command run by bash: the exit code must agree.
			script := strings.Join(quoteAll(tc.args), " ")
			err := exec.Command("bash", "-c", script).Run()
			bashCode := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				bashCode = ee.ExitCode()
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					bashCode = 128 + int(ws.Signal())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if bashCode != res.ExitCode {
				t.Errorf("bash -c %q exits %d, Run gave %d", script, bashCode, res.ExitCode)
			}
		})
	}
}

func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return out
}

func TestNoCommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {""}} {
		res := Run(context.Background(), Spec{Args: args})
		if res.ExitCode != 127 || res.StartErr == nil || res.Message == "" {
			t.Errorf("Run(%q) = code %d, err %v, message %q", args, res.ExitCode, res.StartErr, res.Message)
		}
	}
}

func TestCommandFoundOnlyInCurrentDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "localjob", "#!/bin/sh\nexit 0\n", 0o755)
	t.Setenv("PATH", ".:"+os.Getenv("PATH"))
	t.Chdir(dir)
	res := Run(context.Background(), Spec{Args: []string{"localjob"}})
	if res.ExitCode != 127 || !strings.Contains(res.Message, "./localjob") {
		t.Errorf("code %d, message %q: want 127 and a hint to run ./localjob", res.ExitCode, res.Message)
	}
}

func TestEnvDirStdin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "rel.sh", "#!/bin/sh\necho rel\n", 0o755)
	cases := []struct {
		name string
		spec Spec
		want string
	}{
		{"env", Spec{Args: []string{"sh", "-c", "echo $JOBRUN_X"}, Env: []string{"JOBRUN_X=from-env", "PATH=" + os.Getenv("PATH")}}, "from-env\n"},
		{"dir", Spec{Args: []string{"pwd"}, Dir: dir}, dir + "\n"},
		{"relative path under dir", Spec{Args: []string{"./rel.sh"}, Dir: dir}, "rel\n"},
		{"stdin reader", Spec{Args: []string{"cat"}, Stdin: strings.NewReader("fed\n")}, "fed\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := newLines()
			tc.spec.Stdout = out
			tc.spec.TailLimit = 1000
			res := Run(context.Background(), tc.spec)
			if res.ExitCode != 0 || out.String() != tc.want || string(res.Output) != tc.want {
				t.Errorf("code %d (%s), live %q, tail %q, want %q", res.ExitCode, res.Message, out.String(), res.Output, tc.want)
			}
		})
	}
}

func TestStdinThatNeverEnds(t *testing.T) {
	t.Parallel()
	pr, pw := io.Pipe()
	defer pw.Close()
	res := await(t, runAsync(context.Background(), Spec{Args: []string{"true"}, Stdin: pr}))
	if res.ExitCode != 0 {
		t.Errorf("code %d: %s", res.ExitCode, res.Message)
	}
}

// TestLiveOutputInOrder has the job wait, between lines, for the test to
// have seen the previous one: lines are passed on as they complete, not at
// exit, and the tail keeps them in the order they arrived.
func TestLiveOutputInOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	step := func(n int) string { return filepath.Join(dir, "step"+strconv.Itoa(n)) }
	script := `waitfor() { while [ ! -e "$1" ]; do sleep 0.02; done; }
echo one; waitfor "$1"
echo two >&2; waitfor "$2"
echo three; printf partial`
	out, errs := newLines(), newLines()
	ch := runAsync(context.Background(), Spec{
		Args:   []string{"sh", "-c", script, "sh", step(1), step(2)},
		Stdout: out, Stderr: errs, TailLimit: 1 << 10,
	})
	out.waitFor(t, "one\n")
	if err := os.WriteFile(step(1), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	errs.waitFor(t, "two\n")
	if err := os.WriteFile(step(2), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	res := await(t, ch)
	if res.ExitCode != 0 {
		t.Fatalf("code %d: %s", res.ExitCode, res.Message)
	}
	if got := out.String(); got != "one\nthree\npartial" {
		t.Errorf("stdout %q", got)
	}
	if got := errs.String(); got != "two\n" {
		t.Errorf("stderr %q", got)
	}
	if got := string(res.Output); got != "one\ntwo\nthree\npartial" {
		t.Errorf("tail %q", got)
	}
	if res.OutputTotal != int64(len("one\ntwo\nthree\npartial")) {
		t.Errorf("OutputTotal %d", res.OutputTotal)
	}
}

func TestTailCutAtCharacterBoundary(t *testing.T) {
	t.Parallel()
	// 1000 two-byte characters; a limit of 101 bytes cuts one in half.
	res := Run(context.Background(), Spec{
		Args:      []string{"sh", "-c", `i=0; while [ $i -lt 1000 ]; do printf 'é'; i=$((i+1)); done`},
		TailLimit: 101,
	})
	if res.ExitCode != 0 {
		t.Fatalf("code %d: %s", res.ExitCode, res.Message)
	}
	if res.OutputTotal != 2000 {
		t.Errorf("OutputTotal %d, want 2000", res.OutputTotal)
	}
	if len(res.Output) != 100 || !utf8.Valid(res.Output) {
		t.Errorf("tail is %d bytes, valid UTF-8 %v; want 100 valid bytes", len(res.Output), utf8.Valid(res.Output))
	}
}

// counter counts what it is given and the largest single write.
type counter struct {
	mu      sync.Mutex
	n       int64
	largest int
}

func (c *counter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.n += int64(len(p))
	c.largest = max(c.largest, len(p))
	c.mu.Unlock()
	return len(p), nil
}

// TestHundredMegabytes: memory stays bounded whatever the job writes, with
// lines or without.
func TestHundredMegabytes(t *testing.T) {
	const size = 100_000_000
	const limit = 1 << 20
	cases := []struct{ name, script string }{
		{"one endless line", "head -c 100000000 /dev/zero"},
		{"short lines", "yes 123456789 | head -c 100000000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := &counter{}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res := Run(context.Background(), Spec{Args: []string{"sh", "-c", tc.script}, Stdout: out, TailLimit: limit})
			runtime.ReadMemStats(&after)
			if res.ExitCode != 0 {
				t.Fatalf("code %d: %s", res.ExitCode, res.Message)
			}
			if res.OutputTotal != size || out.n != size {
				t.Errorf("OutputTotal %d, passed on %d, want %d", res.OutputTotal, out.n, size)
			}
			if len(res.Output) != limit {
				t.Errorf("tail %d bytes, want %d", len(res.Output), limit)
			}
			if out.largest > readSize+lineChunk {
				t.Errorf("a single live write of %d bytes", out.largest)
			}
			// The tail, the read buffers and a pending line: a few MiB at
			// most, never the 100 MB that went through.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("allocated %d bytes for %d bytes of output", alloc, size)
			}
		})
	}
}

func TestForwardedSignals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		sig  syscall.Signal
		name string
		code int
	}{
		{syscall.SIGTERM, "SIGTERM", 71},
		{syscall.SIGINT, "SIGINT", 72},
		{syscall.SIGHUP, "SIGHUP", 73},
		{syscall.SIGQUIT, "SIGQUIT", 74},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if signal.Ignored(tc.sig) {
				// Under nohup, say: the job inherits the signal ignored,
				// and a shell cannot trap a signal ignored on entry.
				t.Skipf("%s is ignored by the test's environment", tc.name)
			}
			sigs := make(chan os.Signal, 1)
			out := newLines()
			sigName := strings.TrimPrefix(tc.name, "SIG")
			script := "trap 'echo got " + sigName + "; exit " + strconv.Itoa(tc.code) + "' " + sigName + "; echo ready; while :; do sleep 0.05; done"
			ch := runAsync(context.Background(), Spec{Args: []string{"sh", "-c", script}, Stdout: out, Signals: sigs, TailLimit: 100})
			out.waitFor(t, "ready\n")
			sigs <- tc.sig
			res := await(t, ch)
			if res.ExitCode != tc.code || res.Signaled != "" {
				t.Errorf("code %d, signaled %q: %s", res.ExitCode, res.Signaled, res.Message)
			}
			if len(res.Forwarded) != 1 || res.Forwarded[0] != tc.name {
				t.Errorf("Forwarded %q, want [%s]", res.Forwarded, tc.name)
			}
			if !strings.Contains(string(res.Output), "got "+sigName) {
				t.Errorf("output %q", res.Output)
			}
			if !strings.Contains(res.Message, "forwarded "+tc.name) {
				t.Errorf("message %q does not say what was forwarded", res.Message)
			}
		})
	}
}

// TestForwardReachesChildren: the job's children get the signal too, as
// members of its process group, and the job ends with it.
func TestForwardReachesChildren(t *testing.T) {
	t.Parallel()
	sigs := make(chan os.Signal, 1)
	out := newLines()
	ch := runAsync(context.Background(), Spec{
		Args:   []string{"sh", "-c", "sleep 300 & echo child $!; wait"},
		Stdout: out, Signals: sigs, TailLimit: 100,
	})
	out.waitFor(t, "\n")
	child, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(out.String(), "child ")))
	if err != nil {
		t.Fatal(err)
	}
	sigs <- syscall.SIGTERM
	res := await(t, ch)
	if res.ExitCode != 143 || res.Signaled != "SIGTERM" {
		t.Errorf("code %d, signaled %q: %s", res.ExitCode, res.Signaled, res.Message)
	}
	waitGone(t, child)
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		script   string
		timeout  time.Duration
		code     int
		signaled string
		message  string
	}{
		{"ended by SIGTERM", "sleep 300", 200 * time.Millisecond, 143, "SIGTERM",
			"timed out after 200ms: sent SIGTERM; killed by signal SIGTERM"},
		// The timeouts below leave the shell ample time to set its trap.
		{"ignores SIGTERM: SIGKILL after the grace", "trap '' TERM; while :; do sleep 0.05; done", 2 * time.Second, 137, "SIGKILL",
			"timed out after 2s: sent SIGTERM, then SIGKILL after 500ms"},
		{"traps SIGTERM and exits cleanly", "trap 'echo cleaning; exit 0' TERM; while :; do sleep 0.05; done", 2 * time.Second, 0, "",
			"timed out after 2s: sent SIGTERM; exit code 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := Run(context.Background(), Spec{Args: []string{"sh", "-c", tc.script}, Timeout: tc.timeout, KillGrace: 500 * time.Millisecond})
			if !res.TimedOut || res.Canceled {
				t.Errorf("TimedOut %v, Canceled %v", res.TimedOut, res.Canceled)
			}
			if res.ExitCode != tc.code || res.Signaled != tc.signaled {
				t.Errorf("code %d, signaled %q; want %d %q", res.ExitCode, res.Signaled, tc.code, tc.signaled)
			}
			if res.Message != tc.message {
				t.Errorf("message %q, want %q", res.Message, tc.message)
			}
			if res.Duration < tc.timeout {
				t.Errorf("ended after %s, before the timeout %s", res.Duration, tc.timeout)
			}
		})
	}
}

// TestTimeoutKillsTheGroup: a child that ignores SIGTERM outlives its
// parent's exit; the timeout still ends it, at the end of the grace.
func TestTimeoutKillsTheGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child")
	script := `(trap '' TERM; echo $(sh -c 'echo $PPID') > "$1.tmp"; mv "$1.tmp" "$1"; while :; do sleep 0.05; done) & trap 'exit 5' TERM; while :; do sleep 0.05; done`
	res := Run(context.Background(), Spec{Args: []string{"sh", "-c", script, "sh", pidFile}, Timeout: 2 * time.Second, KillGrace: 500 * time.Millisecond})
	if res.ExitCode != 5 || !res.TimedOut {
		t.Errorf("code %d, timed out %v: %s", res.ExitCode, res.TimedOut, res.Message)
	}
	if !strings.Contains(res.Message, "then SIGKILL after 500ms") {
		t.Errorf("message %q does not say the group was killed", res.Message)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the child never started: %v", err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	waitGone(t, child)
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newLines()
	ch := runAsync(ctx, Spec{Args: []string{"sh", "-c", "echo ready; exec sleep 300"}, Stdout: out})
	out.waitFor(t, "ready\n")
	cancel()
	res := await(t, ch)
	if !res.Canceled || res.TimedOut {
		t.Errorf("Canceled %v, TimedOut %v", res.Canceled, res.TimedOut)
	}
	if res.ExitCode != 143 || res.Message != "cancelled: sent SIGTERM; killed by signal SIGTERM" {
		t.Errorf("code %d, message %q", res.ExitCode, res.Message)
	}
}

func TestNoZombieLeft(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		spec Spec
	}{
		{"exits", Spec{Args: []string{"sh", "-c", "echo $$"}}},
		{"killed by timeout", Spec{Args: []string{"sh", "-c", "echo $$; exec sleep 300"}, Timeout: time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := newLines()
			tc.spec.Stdout = out
			res := Run(context.Background(), tc.spec)
			pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
			if err != nil {
				t.Fatalf("no pid in %q (%s)", out.String(), res.Message)
			}
			// Reaped by the time Run returns: not even a zombie.
			if !gone(pid) {
				st, _, _ := procStateOf(pid)
				t.Errorf("process %d still exists (state %q) after Run returned", pid, st)
			}
		})
	}
}

// TestChildHoldsThePipe: the job exits but leaves a child writing to its
// output; Run returns after a bounded drain, without leaking goroutines,
// and the child is left alone.
func TestChildHoldsThePipe(t *testing.T) {
	before := runtime.NumGoroutine()
	out := newLines()
	res := await(t, runAsync(context.Background(), Spec{
		Args:   []string{"sh", "-c", "sh -c 'echo child $$; exec sleep 300' & sleep 0.1; echo parent done"},
		Stdout: out, TailLimit: 1000,
	}))
	if res.ExitCode != 0 {
		t.Fatalf("code %d: %s", res.ExitCode, res.Message)
	}
	if !strings.Contains(string(res.Output), "parent done") {
		t.Errorf("output %q", res.Output)
	}
	var child int
	for _, line := range strings.Split(out.String(), "\n") {
		if rest, ok := strings.CutPrefix(line, "child "); ok {
			child, _ = strconv.Atoi(rest)
		}
	}
	if child == 0 {
		t.Fatalf("no child pid in %q", out.String())
	}
	defer syscall.Kill(child, syscall.SIGKILL)
	if gone(child) {
		t.Errorf("the child %d was killed when the job exited normally", child)
	}
	deadline := time.Now().Add(patience)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Run, %d before", runtime.NumGoroutine(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRusage(t *testing.T) {
	t.Parallel()
	res := Run(context.Background(), Spec{Args: []string{"sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"}})
	if res.ExitCode != 0 {
		t.Fatalf("code %d: %s", res.ExitCode, res.Message)
	}
	if res.UserCPU+res.SystemCPU <= 0 {
		t.Errorf("no CPU time reported for a busy job: user %s, system %s", res.UserCPU, res.SystemCPU)
	}
	if res.Duration <= 0 || res.Started.IsZero() {
		t.Errorf("Duration %s, Started %v", res.Duration, res.Started)
	}
}

// procStateOf is procState where /proc exists; false elsewhere.
func procStateOf(pid int) (byte, int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 {
		return 0, 0, false
	}
	g, _ := strconv.Atoi(f[2])
	return f[0][0], g, true
}
