//go:build unix

package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// What the Windows service does with `heartbeat run`, run here in
// process: the started hook fires once the plugins are started and
// configured (the service then reports Running), and ending the command's
// context (a Stop from the service manager) is the graceful stop of
// SIGTERM: beats in flight finish, the plugins stop, exit 0. An invalid
// config never reports started and exits 2, which the service reports as
// its service-specific exit code.
func TestServiceRunLifecycle(t *testing.T) {
	bins := buildBinaries(t)
	t.Run("start and stop", func(t *testing.T) {
		path := writeConfig(t, `
targets:
  console: { plugin: log }
heartbeats:
  - { name: svc, frequency: every 1 hour, targets: [console] }
`)
		started := make(chan struct{}, 4)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ctx = withServiceHooks(ctx, &serviceHooks{started: func() { started <- struct{}{} }})
		out := &syncBuffer{}
		done := make(chan int, 1)
		go func() { done <- run(ctx, []string{"run", "--config", path, "--plugin-dir", bins.pluginDir}, out, out) }()
		select {
		case <-started:
		case code := <-done:
			t.Fatalf("run ended (exit %d) before it started:\n%s", code, out.String())
		case <-time.After(60 * time.Second):
			t.Fatalf("no started hook after 60s:\n%s", out.String())
		}
		if !strings.Contains(out.String(), "heartbeat started") {
			t.Errorf("started before heartbeat said so:\n%s", out.String())
		}
		cancel()
		select {
		case code := <-done:
			if code != exitOK {
				t.Errorf("exit %d after a stop, want 0:\n%s", code, out.String())
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("still running 60s after the stop:\n%s", out.String())
		}
		if len(started) != 0 {
			t.Errorf("the started hook fired %d more times", len(started))
		}
		if log := out.String(); !strings.Contains(log, "heartbeat stopped") {
			t.Errorf("no graceful stop in the log:\n%s", log)
		}
		specific, code, crash := serviceExit(exitOK, true)
		if specific || code != 0 || crash {
			t.Errorf("a stopped service reports %v %d crash=%v", specific, code, crash)
		}
	})
	t.Run("invalid config", func(t *testing.T) {
		path := writeConfig(t, "targets:\n  console: { plugin: log }\nheartbeats:\n  - { name: svc, frequency: every 1 hour, targets: [nope] }\n")
		fired := false
		ctx := withServiceHooks(context.Background(), &serviceHooks{started: func() { fired = true }})
		out := &syncBuffer{}
		code := run(ctx, []string{"run", "--config", path, "--plugin-dir", bins.pluginDir}, out, out)
		if code != exitInvalid || fired {
			t.Errorf("exit %d, started hook fired: %v:\n%s", code, fired, out.String())
		}
		sink := &fakeEvents{}
		w := newEventLogWriter(sink)
		_, _ = fmt.Fprint(w, out.String())
		w.Flush()
		if events := sink.all(); len(events) == 0 || !strings.HasPrefix(events[0], "ERROR 3 error: ") {
			t.Errorf("the config error is not an error event: %q", events)
		}
		if specific, code, crash := serviceExit(code, false); !specific || code != exitInvalid || crash {
			t.Errorf("an invalid config reports %v %d crash=%v", specific, code, crash)
		}
	})
}
