// Package check runs a heartbeat's health check before each beat, so a beat
// means "working as intended", not just "heartbeat is running".
package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// DefaultTimeout bounds a check that sets no timeout.
const DefaultTimeout = 10 * time.Second

// MaxOutput is how much of a check's output (the end of it) is kept for
// the monitoring tool: enough to see why it failed, bounded whatever the
// command prints.
const MaxOutput = 10 << 10

// maxHTTPBody bounds how much of an HTTP check's answer is read and
// searched for Expect.
const maxHTTPBody = 1 << 20

// Spec is one health check: an HTTP GET or a command.
type Spec struct {
	// HTTP is a URL to GET; success is a 2xx answer.
	HTTP string
	// Expect, when set, must appear in the HTTP answer's body.
	Expect string
	// Command is an argv list run without a shell; success is exit status 0.
	Command []string
	Timeout time.Duration
}

// Describe says what the check does, without secrets.
func (s Spec) Describe() string {
	if s.HTTP != "" {
		return "GET " + sdk.RedactURL(s.HTTP)
	}
	if len(s.Command) > 0 {
		return "run " + s.Command[0]
	}
	return "none"
}

// Result is what a check found.
type Result struct {
	OK bool
	// Message is one line: what was checked and what happened.
	Message string
	// Output is the tail of the command's output or of the HTTP body.
	Output []byte
	// ExitCode is the command's exit status; nil for HTTP checks and for
	// commands that did not exit on their own.
	ExitCode *int
	Latency  time.Duration
	// Canceled is set when the check was cut short by its caller (the
	// daemon stopping), not by its own timeout: it found nothing about the
	// service, and OK is false.
	Canceled bool
}

// errTimedOut ends a check's context at its own timeout, telling it apart
// from a check cut short by the caller.
var errTimedOut = errors.New("health check timed out")

// cutShort reports that ctx ended for another reason than the check's own
// timeout.
func cutShort(ctx context.Context) bool {
	return ctx.Err() != nil && !errors.Is(context.Cause(ctx), errTimedOut)
}

// Runner runs checks. The zero value is ready to use.
type Runner struct {
	// Client sends HTTP checks; a client with no timeout of its own is fine,
	// the check's timeout applies.
	Client *http.Client
	// Wrapper, when set, is the heartbeat executable: commands then run
	// under `heartbeat __check-exec`, which ends everything the command
	// started if heartbeat itself is killed (see RunWrapper).
	Wrapper string
}

// Run performs the check within its timeout.
func (r Runner) Run(ctx context.Context, s Spec) Result {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errTimedOut)
	defer cancel()
	start := time.Now()
	var res Result
	if s.HTTP != "" {
		res = r.runHTTP(ctx, s, timeout)
	} else {
		res = runCommand(ctx, s, timeout, r.Wrapper)
	}
	res.Latency = time.Since(start)
	return res
}

func (r Runner) runHTTP(ctx context.Context, s Spec, timeout time.Duration) Result {
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	where := sdk.RedactURL(s.HTTP)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.HTTP, nil)
	if err != nil {
		return Result{Message: fmt.Sprintf("health check GET %s: invalid request", where)}
	}
	req.Header.Set("User-Agent", sdk.UserAgent())
	resp, err := client.Do(req)
	if err != nil {
		if cutShort(ctx) {
			return Result{Canceled: true, Message: fmt.Sprintf("health check GET %s was cut short", where)}
		}
		if ctx.Err() != nil {
			return Result{Message: fmt.Sprintf("health check GET %s: no answer within %s", where, timeout)}
		}
		return Result{Message: fmt.Sprintf("health check failed: %v", httpclient.RedactError(err))}
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody))
	if readErr != nil && cutShort(ctx) {
		return Result{Canceled: true, Message: fmt.Sprintf("health check GET %s was cut short", where)}
	}
	tail := &tailBuffer{max: MaxOutput}
	_, _ = tail.Write(body)
	status := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return Result{Message: fmt.Sprintf("health check GET %s answered %s", where, status), Output: tail.Bytes()}
	case readErr != nil:
		return Result{Message: fmt.Sprintf("health check GET %s: reading the answer failed: %v", where, httpclient.RedactError(readErr)), Output: tail.Bytes()}
	case s.Expect != "" && !bytes.Contains(body, []byte(s.Expect)):
		return Result{Message: fmt.Sprintf("health check GET %s answered %s without the expected %q", where, status, s.Expect), Output: tail.Bytes()}
	}
	return Result{OK: true, Message: fmt.Sprintf("health check GET %s answered %s", where, status)}
}

func runCommand(ctx context.Context, s Spec, timeout time.Duration, wrapper string) Result {
	name := s.Command[0]
	argv := s.Command
	if wrapper != "" {
		argv = append([]string{wrapper, WrapperArg, "--"}, s.Command...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out := &tailBuffer{max: MaxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	isolate(cmd)
	cmd.Cancel = func() error { return killGroup(cmd.Process.Pid) }
	// Children holding the output pipe open must not keep Wait waiting.
	cmd.WaitDelay = time.Second
	err := runIsolated(cmd)
	if err != nil && cutShort(ctx) {
		return Result{Canceled: true, Message: fmt.Sprintf("health check command %s was cut short", name), Output: out.Bytes()}
	}
	if err != nil && ctx.Err() != nil {
		return Result{Message: fmt.Sprintf("health check command %s did not finish within %s", name, timeout), Output: out.Bytes()}
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		code := 0
		return Result{OK: true, Message: fmt.Sprintf("health check command %s succeeded", name), Output: out.Bytes(), ExitCode: &code}
	case errors.As(err, &exitErr) && exitErr.Exited():
		code := exitErr.ExitCode()
		return Result{Message: fmt.Sprintf("health check command %s exited with status %d", name, code), Output: out.Bytes(), ExitCode: &code}
	case errors.As(err, &exitErr):
		return Result{Message: fmt.Sprintf("health check command %s was killed: %s", name, exitErr), Output: out.Bytes()}
	}
	return Result{Message: fmt.Sprintf("health check command %s could not run: %s", name, err), Output: out.Bytes()}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max       int
	buf       []byte
	truncated bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		t.truncated = true
		return n, nil
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.truncated = true
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

// Bytes returns the kept output, marked when its start was dropped.
func (t *tailBuffer) Bytes() []byte {
	if len(t.buf) == 0 {
		return nil
	}
	if t.truncated {
		return append([]byte("[…earlier output dropped]\n"), t.buf...)
	}
	return bytes.Clone(t.buf)
}
