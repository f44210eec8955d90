//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/healthchecks/hcfake"
)

// lineCount counts the lines of a file, 0 when it does not exist.
func lineCount(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(data), "\n")
}

// Periodic mode: a run at start, another at once on SIGALRM, none while a
// run is in progress, and SIGTERM between runs stops heartbeat (exit 0).
func TestExecPeriodicAlarm(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	uuid := hc.AddCheck(hcfake.NewUUID())
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	slow := filepath.Join(dir, "slow")
	// A run lasts until the file slow is removed, when it exists.
	script := `echo run >> ` + runs + `; while [ -e ` + slow + ` ]; do sleep 0.05; done`
	p := startExec(t, bins, nil, "--url", hc.PingURL(uuid), "--every", "every 1 hour", "--", "sh", "-c", script)
	waitFor(t, 30*time.Second, "the first run", func() bool { return len(hc.Pings(uuid)) == 2 })

	// SIGALRM runs it at once; one that comes while a run is in progress
	// (here a slow one) starts no other.
	if err := os.WriteFile(slow, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	alarmUntil(t, p, "a run on SIGALRM", func() bool { return lineCount(runs) == 2 })
	p.signal(t, syscall.SIGALRM)
	waitFor(t, 30*time.Second, "the refusal to be logged", func() bool {
		return strings.Contains(p.stderr.String(), "a run is in progress; not starting another")
	})
	if err := os.Remove(slow); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the slow run to be reported", func() bool { return len(hc.Pings(uuid)) == 4 })

	// And again once the run is over.
	alarmUntil(t, p, "another run on SIGALRM", func() bool { return lineCount(runs) == 3 })
	waitFor(t, 30*time.Second, "the third run to be reported", func() bool { return len(hc.Pings(uuid)) == 6 })
	time.Sleep(300 * time.Millisecond)
	if n := lineCount(runs); n != 3 {
		t.Fatalf("%d runs, want 3: SIGALRM during a run started another", n)
	}

	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM between runs, want 0", code)
	}
	pings := hc.Pings(uuid)
	rids := map[string]int{}
	for i := 0; i+1 < len(pings); i += 2 {
		if pings[i].Kind != hcfake.KindStart || pings[i+1].Kind != hcfake.KindSuccess || pings[i].RID != pings[i+1].RID {
			t.Errorf("run %d: %s then %s, rids %s and %s", i/2, pings[i].Kind, pings[i+1].Kind, pings[i].RID, pings[i+1].RID)
		}
		rids[pings[i].RID]++
	}
	if len(rids) != 3 {
		t.Errorf("%d distinct run ids for 3 runs", len(rids))
	}
	noSecrets(t, p.stdout.String()+p.stderr.String(), uuid)
}

// alarmUntil sends SIGALRM until cond holds. The tool records a finish
// signal a moment before heartbeat has its answer and ends the run, so an
// alarm sent as soon as the tool shows the finish can still be refused as
// coming during the run.
func alarmUntil(t *testing.T, p *execProcess, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		p.signal(t, syscall.SIGALRM)
		resend := time.Now().Add(5 * time.Second)
		for time.Now().Before(resend) {
			if cond() {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// Runs that last longer than the period never overlap: the fire times
// that fall during a run are skipped and the first skip is logged.
func TestExecPeriodicNoOverlap(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	uuid := hc.AddCheck(hcfake.NewUUID())
	dir := t.TempDir()
	busy := filepath.Join(dir, "busy")
	runs := filepath.Join(dir, "runs")
	// mkdir fails when another run is still in its critical section.
	script := `mkdir ` + busy + ` 2>/dev/null || echo OVERLAP >> ` + runs + `; echo run >> ` + runs + `; sleep 2.5; rmdir ` + busy
	p := startExec(t, bins, nil, "--url", hc.PingURL(uuid), "--every", "every 1 second", "--", "sh", "-c", script)
	waitFor(t, 60*time.Second, "three runs", func() bool { return lineCount(runs) >= 3 })
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit %d, want 0", code)
	}
	data, _ := os.ReadFile(runs)
	if strings.Contains(string(data), "OVERLAP") {
		t.Errorf("runs overlapped:\n%s", data)
	}
	if !strings.Contains(p.stderr.String(), "the previous run is still in progress: this run is skipped") {
		t.Errorf("the skipped fire times were not logged:\n%s", p.stderr.String())
	}
	if n := strings.Count(p.stderr.String(), "[WARN]  heartbeat: the previous run is still in progress"); n > lineCount(runs) {
		t.Errorf("%d skip warnings for %d runs: want at most one per run", n, lineCount(runs))
	}
}
