//go:build unix

package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGHUP with an invalid config keeps the running config; with a valid one
// the new config applies without restarting the daemon.
func TestReloadOnSIGHUP(t *testing.T) {
	bins := buildBinaries(t)
	first := newRecorder(t, http.StatusOK)
	second := newRecorder(t, http.StatusOK)
	config := func(url, frequency string) string {
		return fmt.Sprintf(`
targets:
  web: { plugin: http, config: { url: "%s/beat" } }
heartbeats:
  - { name: svc, frequency: %s, targets: [web] }
`, url, frequency)
	}
	path := writeConfig(t, config(first.srv.URL, "every 1 sec"))
	d := startDaemon(t, bins, "--config", path)
	waitFor(t, 20*time.Second, "beats to the first server", func() bool { return len(first.snapshot()) >= 2 })

	// An invalid config: rejected, the old one keeps beating.
	if err := os.WriteFile(path, []byte(config(second.srv.URL, "every 1 secz")), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "the reload to be rejected", func() bool {
		return strings.Contains(d.stderr.String(), "config reload rejected")
	})
	n := len(first.snapshot())
	waitFor(t, 10*time.Second, "beats to go on with the old config", func() bool { return len(first.snapshot()) >= n+2 })
	if len(second.snapshot()) != 0 {
		t.Errorf("the rejected config was applied: %d beats to the second server", len(second.snapshot()))
	}

	// A valid config: applied.
	if err := os.WriteFile(path, []byte(config(second.srv.URL, "every 1 sec")), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = d.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 10*time.Second, "beats to the second server", func() bool { return len(second.snapshot()) >= 2 })
	settled := len(first.snapshot())
	time.Sleep(1500 * time.Millisecond)
	if extra := len(first.snapshot()) - settled; extra > 0 {
		t.Errorf("%d beats still went to the first server after the reload", extra)
	}
	// The heartbeat's definition did not change, so its timing did not
	// either: no extra start-up beat, beats stay one second apart.
	var hits []time.Time
	for _, h := range second.snapshot() {
		hits = append(hits, h.at)
	}
	if n := extraBeats(hits, time.Second); n > 0 {
		t.Errorf("%d more beats than fire times after the reload: a double beat (beats at %v)", n, hits)
	}
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d", code)
	}
}
