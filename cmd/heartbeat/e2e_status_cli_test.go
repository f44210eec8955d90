//go:build unix

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/status"
)

// statusLines are stdout's lines with their spaces collapsed.
func statusLines(stdout string) map[string]bool {
	lines := map[string]bool{}
	for _, l := range strings.Split(stdout, "\n") {
		lines[strings.Join(strings.Fields(l), " ")] = true
	}
	return lines
}

func hasLinePrefix(lines map[string]bool, prefix string) bool {
	for l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// `heartbeat status` against a running daemon: the table, --json, the
// exit codes of a failing heartbeat and of a daemon that is gone.
func TestStatusCLIAgainstDaemon(t *testing.T) {
	bins := buildBinaries(t)
	d := startStatusDaemon(t, bins, "")
	listen := strings.TrimPrefix(d.base, "http://")
	d.waitForStates(t, 2, func() (status.Snapshot, bool) { return fetchSnapshot(t, d.base) })

	for _, args := range [][]string{{"--config", d.cfg}, {"--listen", listen}} {
		stdout, stderr, code := runCLI(t, bins, nil, append([]string{"status"}, args...)...)
		if code != exitFailed {
			t.Errorf("status %v: exit %d, want 1 (a heartbeat is failing)\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
		lines := statusLines(stdout)
		for _, want := range []string{"HEARTBEAT STATE NEXT BEAT TARGET LAST BEAT", "backup-db ok ", "web-frontend FAILING "} {
			if !hasLinePrefix(lines, want) {
				t.Errorf("status %v: no line starting %q:\n%s", args, want, stdout)
			}
		}
		if flat := strings.Join(strings.Fields(stdout), " "); !strings.Contains(flat, " console delivered success, ") || !strings.Contains(flat, " uptime-api FAILED success, ") || !strings.Contains(flat, "500 Internal Server Error") {
			t.Errorf("status %v: the last beat per target is missing:\n%s", args, stdout)
		}
		if strings.Contains(stdout, "\x1b") {
			t.Errorf("status %v: colour codes on a pipe", args)
		}
		if strings.Contains(stdout+stderr, d.secret) {
			t.Errorf("status %v shows the secret of the target's URL", args)
		}
	}

	stdout, stderr, code := runCLI(t, bins, nil, "status", "--listen", listen, "--json")
	var snap status.Snapshot
	if err := json.Unmarshal([]byte(stdout), &snap); err != nil || code != exitFailed {
		t.Fatalf("--json: exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	if snap.Version != status.SchemaVersion || len(snap.Heartbeats) != 2 || snap.Heartbeats[1].State != status.StateFailing {
		t.Errorf("--json document: %+v", snap)
	}

	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("daemon exit code %d", code)
	}
	_, stderr, code = runCLI(t, bins, nil, "status", "--config", d.cfg, "--timeout", "5s")
	if code != exitUnreachable || !strings.Contains(stderr, "cannot reach heartbeat at "+d.base+"/api/v1/status") {
		t.Errorf("daemon gone: exit %d, stderr %q", code, stderr)
	}
}

// With listen_auth, status takes the credentials from the config; without
// them the daemon refuses it, which is a config error (exit 2).
func TestStatusCLIWithListenAuth(t *testing.T) {
	bins := buildBinaries(t)
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("tok-9d3c1f0e8b7a6\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startStatusDaemon(t, bins, "listen_auth: { bearer_token_file: "+token+" }")
	listen := strings.TrimPrefix(d.base, "http://")
	var stdout, stderr string
	var code int
	waitFor(t, 90*time.Second, "status --config to report the failing heartbeat", func() bool {
		stdout, stderr, code = runCLI(t, bins, nil, "status", "--config", d.cfg)
		return code == exitFailed && strings.Contains(stdout, "web-frontend")
	})
	if strings.Contains(stdout+stderr, "tok-9d3c1f0e8b7a6") {
		t.Error("status prints the token")
	}
	_, stderr, code = runCLI(t, bins, nil, "status", "--listen", listen)
	if code != exitInvalid || !strings.Contains(stderr, "refused the request (401 Unauthorized)") {
		t.Errorf("without credentials: exit %d, stderr %q", code, stderr)
	}
}
