//go:build unix

package main

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Frequencies that later.js fires with no delay (a reversed range: every
// millisecond) or that read as every second (`every 0 seconds`) beat at
// most once a second in the real daemon, their beats are delivered, and
// the log does not flood (later.js's chain made it ~880 lines a second,
// every beat failing at a deadline already past).
func TestZeroDelayFrequenciesBeatOnceASecond(t *testing.T) {
	bins := buildBinaries(t)
	server := newRecorder(t, http.StatusOK)
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  web-reversed: { plugin: http, config: { url: "%[1]s/reversed" } }
  web-zero: { plugin: http, config: { url: "%[1]s/zero" } }
  console: { plugin: log }
heartbeats:
  - { name: reversed, frequency: on the 22nd through 2nd hour, targets: [web-reversed, console] }
  - { name: zero, frequency: every 0 seconds, targets: [web-zero] }
`, server.srv.URL))

	// validate warns about both.
	_, stderr, code := runCLI(t, bins, nil, "validate", "--config", cfg, "--plugin-dir", bins.pluginDir)
	if code != exitOK {
		t.Fatalf("validate exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{
		`heartbeat "reversed": later.js fires this frequency less than a second after each fire`,
		`heartbeat "reversed": an hour range in this frequency ends before it starts`,
		`heartbeat "zero": 'every 0' is read as 'every 1'`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("validate output lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, `heartbeat "zero": later.js fires this frequency less than a second`) {
		t.Errorf("every 0 seconds is every second, not zero-delay:\n%s", stderr)
	}

	started := time.Now()
	d := startDaemon(t, bins, "--config", cfg)
	waitFor(t, 30*time.Second, "beats of both heartbeats", func() bool {
		byPath := hitsByPath(server)
		return len(byPath["/reversed"]) >= 4 && len(byPath["/zero"]) >= 4
	})
	// Let them run a while longer, then stop.
	time.Sleep(3 * time.Second)
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
	elapsed := time.Since(started)
	out := d.stderr.String()

	for _, path := range []string{"/reversed", "/zero"} {
		hits := hitsByPath(server)[path]
		// At most one beat a second after the start-up beat.
		if max := int(elapsed/time.Second) + 1; len(hits) > max {
			t.Errorf("%s: %d beats in %s, want at most %d (one a second)", path, len(hits), elapsed.Round(time.Millisecond), max)
		}
		// In any 3 seconds, at most 5 beats.
		for i := range hits {
			n := 0
			for _, h := range hits[i:] {
				if h.Sub(hits[i]) < 3*time.Second {
					n++
				}
			}
			if n > 5 {
				t.Errorf("%s: %d beats within 3s from %s, want at most 5", path, n, hits[i].Format("15:04:05.000"))
				break
			}
		}
	}
	// Beats are delivered. A beat on a heavily loaded machine may still
	// miss its deadline or overlap the next now and then, but not each one.
	for _, bad := range []string{"not delivered", "skipping"} {
		if n := strings.Count(out, bad); n > 2 {
			t.Errorf("the log says %q %d times:\n%s", bad, n, out)
		}
	}
	// The log target logs every beat it receives (the core logs only the
	// first delivery at info level).
	if n := countLines(out, "beat received", "heartbeat=reversed"); n < 4 {
		t.Errorf("%d beats of reversed delivered to the log target, want at least 4", n)
	}
	// The zero-delay condition is logged once, for the reversed range only.
	if n := strings.Count(out, "would fire this frequency less than a second after each fire"); n != 1 || !strings.Contains(out, "heartbeat=reversed frequency=") {
		t.Errorf("zero-delay warning logged %d times, want once for reversed:\n%s", n, out)
	}
	// The log grows with the beats, not with later's milliseconds: four
	// lines a second (three targets, the log target's own line), a few
	// more at start and stop.
	lines := strings.Count(out, "\n")
	if max := 60 + 6*int(elapsed/time.Second); lines > max {
		t.Errorf("%d log lines in %s, want at most %d", lines, elapsed.Round(time.Millisecond), max)
	}
}

// hitsByPath returns the times of the recorder's requests, by path.
func hitsByPath(r *recorder) map[string][]time.Time {
	out := map[string][]time.Time{}
	for _, h := range r.snapshot() {
		out[h.path] = append(out[h.path], h.at)
	}
	return out
}
