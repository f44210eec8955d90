//go:build unix

package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/healthchecks/hcfake"
	"github.com/seed-e9b80cf6/heartbeat/plugins/uptimekuma/kumafake"
)

// execCLI runs heartbeat exec with the test's plugins.
func execCLI(t *testing.T, bins binaries, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLI(t, bins, env, append([]string{"exec", "--plugin-dir", bins.pluginDir}, args...)...)
}

// noSecrets fails the test when heartbeat's own output holds a secret.
func noSecrets(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("heartbeat's output holds the secret %q:\n%s", s, out)
		}
	}
}

// runPings groups a check's stored pings into runs by rid, in order.
func pingsOf(t *testing.T, hc *hcfake.Server, uuid string, want int) []hcfake.Ping {
	t.Helper()
	waitFor(t, 30*time.Second, strconv.Itoa(want)+" pings", func() bool { return len(hc.Pings(uuid)) >= want })
	pings := hc.Pings(uuid)
	if len(pings) != want {
		t.Fatalf("%d pings, want %d: %+v", len(pings), want, pings)
	}
	return pings
}

func exitStatus(p hcfake.Ping) string {
	if p.ExitStatus == nil {
		return "none"
	}
	return strconv.Itoa(*p.ExitStatus)
}

// A job's exit status is heartbeat's, and Healthchecks gets a start and a
// finish paired by a fresh run id: success, the exit status (runitor's
// default for a non-zero exit), or /fail when the command cannot start.
func TestExecExitCodes(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	dir := t.TempDir()
	notExec := filepath.Join(dir, "not-executable.sh")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\necho hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		command  []string
		code     int
		kind     hcfake.Kind
		status   string // the finish's exit status
		body     []string
		bodyNot  []string
		terminal string
	}{
		{"success", []string{"sh", "-c", "echo all good"}, 0, hcfake.KindSuccess, "none", []string{"exit code 0", "all good"}, nil, "all good"},
		{"exit 3", []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, 3, hcfake.KindFail, "3", []string{"exit code 3", "out\n", "err\n"}, nil, "out"},
		{"not found", []string{"no-such-command-xyz"}, 127, hcfake.KindFail, "none", []string{"command not found: no-such-command-xyz"}, nil, ""},
		{"not executable", []string{notExec}, 126, hcfake.KindFail, "none", []string{"not-executable.sh"}, nil, ""},
		{"killed by a signal", []string{"sh", "-c", "echo dying; kill -TERM $$"}, 128 + int(syscall.SIGTERM), hcfake.KindFail, "143", []string{"killed by signal SIGTERM", "dying"}, nil, "dying"},
	}
	var rids []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			uuid := hc.AddCheck(hcfake.NewUUID())
			stdout, stderr, code := execCLI(t, bins, nil, append([]string{"--url", hc.PingURL(uuid), "--"}, c.command...)...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout, stderr)
			}
			if !strings.Contains(stdout, c.terminal) {
				t.Errorf("the job's output did not reach the terminal: %q", stdout)
			}
			noSecrets(t, stdout+stderr, uuid)
			pings := pingsOf(t, hc, uuid, 2)
			start, finish := pings[0], pings[1]
			if start.Kind != hcfake.KindStart || finish.Kind != c.kind || exitStatus(finish) != c.status {
				t.Errorf("pings %s then %s (exit status %s), want start then %s (exit status %s)", start.Kind, finish.Kind, exitStatus(finish), c.kind, c.status)
			}
			if start.RID == "" || start.RID != finish.RID {
				t.Errorf("rids %q and %q: want one, the same", start.RID, finish.RID)
			}
			rids = append(rids, start.RID)
			for _, want := range c.body {
				if !strings.Contains(string(finish.Body), want) {
					t.Errorf("finish body lacks %q:\n%s", want, finish.Body)
				}
			}
		})
	}
	seen := map[string]bool{}
	for _, r := range rids {
		if seen[r] {
			t.Errorf("run id %s used by two runs", r)
		}
		seen[r] = true
	}
}

// The flags of runitor: no start ping, no run id, no output, and the
// signal chosen for each outcome.
func TestExecSignalChoice(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	cases := []struct {
		name   string
		flags  []string
		script string
		code   int
		kinds  []hcfake.Kind
		status string
		rid    bool
		output bool // the job's output is in the finish's body
	}{
		{"no start ping", []string{"--no-start-ping"}, "echo x", 0, []hcfake.Kind{hcfake.KindSuccess}, "none", true, true},
		{"no run id", []string{"--no-run-id"}, "echo x", 0, []hcfake.Kind{hcfake.KindStart, hcfake.KindSuccess}, "none", false, true},
		{"no output", []string{"--no-output-in-ping", "--no-start-ping"}, "echo x", 0, []hcfake.Kind{hcfake.KindSuccess}, "none", true, false},
		{"on-success exit-code", []string{"--on-success", "exit-code", "--no-start-ping"}, "echo x", 0, []hcfake.Kind{hcfake.KindSuccess}, "0", true, true},
		{"on-nonzero-exit fail", []string{"--on-nonzero-exit", "fail", "--no-start-ping"}, "echo x; exit 4", 4, []hcfake.Kind{hcfake.KindFail}, "none", true, true},
		{"on-nonzero-exit log", []string{"--on-nonzero-exit", "log", "--no-start-ping"}, "echo x; exit 4", 4, []hcfake.Kind{hcfake.KindLog}, "none", true, true},
		{"on-success fail", []string{"--on-success", "fail", "--no-start-ping"}, "echo x", 0, []hcfake.Kind{hcfake.KindFail}, "none", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			uuid := hc.AddCheck(hcfake.NewUUID())
			args := append(append([]string{"--url", hc.PingURL(uuid)}, c.flags...), "--", "sh", "-c", c.script)
			stdout, stderr, code := execCLI(t, bins, nil, args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, c.code, stdout, stderr)
			}
			pings := pingsOf(t, hc, uuid, len(c.kinds))
			for i, k := range c.kinds {
				if pings[i].Kind != k {
					t.Errorf("ping %d is %s, want %s", i, pings[i].Kind, k)
				}
			}
			last := pings[len(pings)-1]
			if exitStatus(last) != c.status {
				t.Errorf("exit status %s, want %s", exitStatus(last), c.status)
			}
			if (last.RID != "") != c.rid {
				t.Errorf("rid %q, want one: %v", last.RID, c.rid)
			}
			if strings.Contains(string(last.Body), "x\n") != c.output || !strings.HasPrefix(string(last.Body), "exit code ") {
				t.Errorf("body %q: want the one-line outcome first, and the output: %v", last.Body, c.output)
			}
		})
	}
}

// The finish carries the tail of the output, cut to --ping-body-limit with
// a first line saying how much was dropped; the terminal gets all of it.
func TestExecOutputTail(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	uuid := hc.AddCheck(hcfake.NewUUID())
	script := `i=0; while [ $i -lt 1000 ]; do echo "line $i of the output, padded to be long enough"; i=$((i+1)); done; echo THE-END`
	stdout, stderr, code := execCLI(t, bins, nil, "--url", hc.PingURL(uuid), "--ping-body-limit", "2000", "--", "sh", "-c", script)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "line 0 of") || !strings.Contains(stdout, "THE-END") {
		t.Errorf("the terminal did not get all the output")
	}
	finish := pingsOf(t, hc, uuid, 2)[1]
	body := string(finish.Body)
	if !strings.HasSuffix(strings.TrimSpace(body), "THE-END") || strings.Contains(body, "line 0 of") {
		t.Errorf("body is not the tail of the output:\n%s", body)
	}
	if !strings.Contains(body, "earlier bytes of output not kept") || len(body) > 2000+200 {
		t.Errorf("body of %d bytes lacks the truncation line or is over the limit:\n%s", len(body), body)
	}

	// A body over the server's limit is cut by the plugin to what the
	// server keeps (self-hosted: 10,000 bytes), keeping the end.
	uuid2 := hc.AddCheck(hcfake.NewUUID())
	script = `head -c 50000 /dev/zero | tr '\0' 'x'; echo; echo LAST-LINE`
	if _, stderr, code := execCLI(t, bins, nil, "--url", hc.PingURL(uuid2), "--", "sh", "-c", script); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	finish = pingsOf(t, hc, uuid2, 2)[1]
	if len(finish.Body) > hcfake.SelfHostedBodyLimit || !strings.Contains(string(finish.Body), "LAST-LINE") {
		t.Errorf("body of %d bytes: want at most %d ending with the last line", len(finish.Body), hcfake.SelfHostedBodyLimit)
	}
}

// startExec starts heartbeat exec in the background; stdout is read line
// by line into lines.
type execProcess struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
}

func startExec(t *testing.T, bins binaries, env []string, args ...string) *execProcess {
	t.Helper()
	cmd := exec.Command(bins.core, append([]string{"exec", "--plugin-dir", bins.pluginDir}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	p := &execProcess{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("heartbeat exec stdout:\n%s\nstderr:\n%s", p.stdout.String(), p.stderr.String())
		}
	})
	return p
}

func (p *execProcess) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("heartbeat exec did not exit within 60s")
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *execProcess) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// SIGTERM sent to heartbeat reaches the job (its process group); the
// outcome is reported and is heartbeat's exit status.
func TestExecForwardedSignal(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	t.Run("job traps it and exits 0", func(t *testing.T) {
		uuid := hc.AddCheck(hcfake.NewUUID())
		script := `trap 'echo got TERM; exit 0' TERM; echo ready; while :; do sleep 0.1; done`
		p := startExec(t, bins, nil, "--url", hc.PingURL(uuid), "--", "sh", "-c", script)
		waitFor(t, 30*time.Second, "the job to start", func() bool { return strings.Contains(p.stdout.String(), "ready") })
		p.signal(t, syscall.SIGTERM)
		if code := p.wait(t); code != 0 {
			t.Fatalf("exit %d, want 0", code)
		}
		finish := pingsOf(t, hc, uuid, 2)[1]
		if finish.Kind != hcfake.KindSuccess || !strings.Contains(string(finish.Body), "got TERM") || !strings.Contains(string(finish.Body), "forwarded SIGTERM") {
			t.Errorf("finish %s with body %q", finish.Kind, finish.Body)
		}
	})
	t.Run("job dies of it", func(t *testing.T) {
		uuid := hc.AddCheck(hcfake.NewUUID())
		p := startExec(t, bins, nil, "--url", hc.PingURL(uuid), "--", "sh", "-c", "echo ready; sleep 60")
		waitFor(t, 30*time.Second, "the job to start", func() bool { return strings.Contains(p.stdout.String(), "ready") })
		p.signal(t, syscall.SIGTERM)
		if code := p.wait(t); code != 143 {
			t.Fatalf("exit %d, want 143", code)
		}
		finish := pingsOf(t, hc, uuid, 2)[1]
		if finish.Kind != hcfake.KindFail || exitStatus(finish) != "143" {
			t.Errorf("finish %s with exit status %s, want fail 143", finish.Kind, exitStatus(finish))
		}
	})
}

// --timeout stops an overrunning job (SIGTERM, then SIGKILL after the
// grace when it ignores SIGTERM) and reports a failure that says so.
func TestExecTimeout(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	uuid := hc.AddCheck(hcfake.NewUUID())
	_, stderr, code := execCLI(t, bins, nil, "--url", hc.PingURL(uuid), "--timeout", "1s", "--kill-grace", "1s", "--", "sh", "-c", `trap '' TERM; echo started; sleep 30`)
	if code != 128+int(syscall.SIGKILL) {
		t.Fatalf("exit %d, want %d\n%s", code, 128+int(syscall.SIGKILL), stderr)
	}
	if !strings.Contains(stderr, "timed out after 1s") {
		t.Errorf("stderr does not say it timed out:\n%s", stderr)
	}
	finish := pingsOf(t, hc, uuid, 2)[1]
	if finish.Kind != hcfake.KindFail || !strings.Contains(string(finish.Body), "timed out after 1s: sent SIGTERM, then SIGKILL after 1s") || !strings.Contains(string(finish.Body), "started") {
		t.Errorf("finish %s with body %q", finish.Kind, finish.Body)
	}

	// A job that ends on SIGTERM with status 0 was still timed out.
	uuid = hc.AddCheck(hcfake.NewUUID())
	_, stderr, code = execCLI(t, bins, nil, "--url", hc.PingURL(uuid), "--timeout", "1s", "--", "sh", "-c", `trap 'exit 0' TERM; while :; do sleep 0.1; done`)
	if code != timedOutExitCode {
		t.Fatalf("exit %d, want %d\n%s", code, timedOutExitCode, stderr)
	}
	if finish := pingsOf(t, hc, uuid, 2)[1]; finish.Kind != hcfake.KindFail {
		t.Errorf("finish %s, want fail", finish.Kind)
	}
}

// --lock: a second run while the first holds the lock is skipped (a log
// signal, --skip-exit-code) or, with --lock-wait, runs after it.
func TestExecLock(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	dir := t.TempDir()
	lock := filepath.Join(dir, "job.lock")
	started := filepath.Join(dir, "started")
	release := filepath.Join(dir, "release")
	holder := `touch ` + started + `; while [ ! -e ` + release + ` ]; do sleep 0.05; done; echo first done`

	t.Run("skip", func(t *testing.T) {
		_ = os.Remove(started)
		_ = os.Remove(release)
		uuid := hc.AddCheck(hcfake.NewUUID())
		first := startExec(t, bins, nil, "--url", hc.PingURL(uuid), "--lock", lock, "--", "sh", "-c", holder)
		waitFor(t, 30*time.Second, "the first run to start", func() bool { _, err := os.Stat(started); return err == nil })
		_, stderr, code := execCLI(t, bins, nil, "--url", hc.PingURL(uuid), "--lock", lock, "--", "sh", "-c", "echo second ran")
		if code != defaultSkipExitCode {
			t.Fatalf("second run: exit %d, want %d\n%s", code, defaultSkipExitCode, stderr)
		}
		if !strings.Contains(stderr, "run skipped") || !strings.Contains(stderr, "pid "+strconv.Itoa(first.cmd.Process.Pid)) {
			t.Errorf("stderr does not say the run was skipped and who holds the lock:\n%s", stderr)
		}
		if err := os.WriteFile(release, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if code := first.wait(t); code != 0 {
			t.Fatalf("first run: exit %d", code)
		}
		pings := pingsOf(t, hc, uuid, 3)
		var log *hcfake.Ping
		for i := range pings {
			if pings[i].Kind == hcfake.KindLog {
				log = &pings[i]
			}
		}
		if log == nil || !strings.Contains(string(log.Body), "skipped: another run holds the lock") {
			t.Errorf("no log ping saying the run was skipped: %+v", pings)
		}
		if strings.Contains(first.stdout.String()+string(pings[len(pings)-1].Body), "second ran") {
			t.Errorf("the skipped run ran")
		}
	})

	t.Run("wait", func(t *testing.T) {
		_ = os.Remove(started)
		_ = os.Remove(release)
		uuid := hc.AddCheck(hcfake.NewUUID())
		first := startExec(t, bins, nil, "--url", hc.PingURL(uuid), "--lock", lock, "--", "sh", "-c", holder)
		waitFor(t, 30*time.Second, "the first run to start", func() bool { _, err := os.Stat(started); return err == nil })
		second := startExec(t, bins, nil, "--url", hc.PingURL(uuid), "--lock", lock, "--lock-wait", "--", "sh", "-c", "echo second ran")
		time.Sleep(500 * time.Millisecond)
		if strings.Contains(second.stdout.String(), "second ran") {
			t.Fatalf("the second run did not wait for the lock")
		}
		if err := os.WriteFile(release, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if code := first.wait(t); code != 0 {
			t.Fatalf("first run: exit %d", code)
		}
		if code := second.wait(t); code != 0 || !strings.Contains(second.stdout.String(), "second ran") {
			t.Fatalf("second run: exit %d, output %q", code, second.stdout.String())
		}
		pings := pingsOf(t, hc, uuid, 4)
		// Run by run: start and finish of the first, then of the second.
		if pings[0].RID != pings[1].RID || pings[2].RID != pings[3].RID || pings[0].RID == pings[2].RID ||
			pings[0].Kind != hcfake.KindStart || pings[2].Kind != hcfake.KindStart {
			t.Errorf("runs overlap or are not paired: %+v", pings)
		}
	})
}

// closedURL is a URL on 127.0.0.1 where nothing listens.
func closedURL(t *testing.T, path string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + path
}

// A monitoring tool that cannot be reached changes nothing for the job:
// it runs, its exit status is returned, stderr says what was not
// delivered; only --report-failure-exit-code turns that into an exit
// status.
func TestExecUnreachableTool(t *testing.T) {
	bins := buildBinaries(t)
	uuid := hcfake.NewUUID()
	url := closedURL(t, "/ping/"+uuid)
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		flags []string
		code  int
	}{
		{"exit status unchanged", nil, 3},
		{"distinct exit status on request", []string{"--report-failure-exit-code", "99"}, 99},
	} {
		t.Run(c.name, func(t *testing.T) {
			marker := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
			args := append(append([]string{"--url", url, "--retries", "1"}, c.flags...), "--", "sh", "-c", "echo ran > "+marker+"; exit 3")
			stdout, stderr, code := execCLI(t, bins, nil, args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s", code, c.code, stderr)
			}
			if _, err := os.Stat(marker); err != nil {
				t.Errorf("the job did not run: %v", err)
			}
			for _, want := range []string{"start signal not delivered", "fail signal not delivered", "connection refused"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			noSecrets(t, stdout+stderr, uuid)
		})
	}
}

// One job reported to Healthchecks and Uptime Kuma at once: Uptime Kuma
// gets down with the reason and the run's duration as ping.
func TestExecSeveralTargets(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	kuma := kumafake.New(t, kumafake.Options{})
	uuid := hc.AddCheck(hcfake.NewUUID())
	token := kuma.AddMonitor()
	stdout, stderr, code := execCLI(t, bins, nil, "--url", hc.PingURL(uuid), "--url", kuma.PushURL(token), "--", "sh", "-c", "echo disk full >&2; sleep 0.2; exit 3")
	if code != 3 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	noSecrets(t, stdout+stderr, uuid, token)
	pings := pingsOf(t, hc, uuid, 2)
	if pings[1].Kind != hcfake.KindFail || exitStatus(pings[1]) != "3" {
		t.Errorf("healthchecks got %s %s", pings[1].Kind, exitStatus(pings[1]))
	}
	waitFor(t, 30*time.Second, "a push", func() bool { return len(kuma.Beats(token)) > 0 })
	beats := kuma.Beats(token)
	if len(beats) != 1 {
		t.Fatalf("uptime kuma stored %d beats, want 1 (it takes no start): %+v", len(beats), beats)
	}
	b := beats[0]
	if b.Status != kumafake.Down || !strings.Contains(b.Msg, "exit code 3") || b.Ping == nil || *b.Ping < 200 {
		t.Errorf("uptime kuma beat: %+v (ping %v), want down, \"exit code 3\", ping >= 200 ms", b, b.Ping)
	}
}

// --target and --heartbeat pick targets from the config, with its secrets
// handling (a _file setting); only their plugins are started.
func TestExecConfigTargets(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	kuma := kumafake.New(t, kumafake.Options{})
	uuid := hc.AddCheck(hcfake.NewUUID())
	token := kuma.AddMonitor()
	dir := t.TempDir()
	secret := filepath.Join(dir, "hc-url")
	if err := os.WriteFile(secret, []byte(hc.PingURL(uuid)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, `
targets:
  hc:
    plugin: healthchecks
    config: { ping_url_file: "`+secret+`" }
  kuma:
    plugin: uptimekuma
    config: { push_url: "`+kuma.PushURL(token)+`" }
  elsewhere:
    plugin: not-installed-anywhere
heartbeats:
  - { name: backup, frequency: every 1 hour, targets: [hc, kuma] }
`)
	t.Run("heartbeat", func(t *testing.T) {
		stdout, stderr, code := execCLI(t, bins, nil, "--config", cfg, "--heartbeat", "backup", "--", "sh", "-c", "echo done")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		noSecrets(t, stdout+stderr, uuid, token)
		pingsOf(t, hc, uuid, 2)
		waitFor(t, 30*time.Second, "a push", func() bool { return len(kuma.Beats(token)) == 1 })
		if b := kuma.Beats(token)[0]; b.Status != kumafake.Up {
			t.Errorf("kuma: %+v", b)
		}
	})
	t.Run("target", func(t *testing.T) {
		_, stderr, code := execCLI(t, bins, nil, "--config", cfg, "--target", "hc", "--", "sh", "-c", "exit 5")
		if code != 5 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if p := pingsOf(t, hc, uuid, 4)[3]; p.Kind != hcfake.KindFail || exitStatus(p) != "5" {
			t.Errorf("finish %s %s", p.Kind, exitStatus(p))
		}
		if n := len(kuma.Beats(token)); n != 1 {
			t.Errorf("kuma got %d beats, want still 1", n)
		}
	})
	t.Run("unknown target", func(t *testing.T) {
		_, stderr, code := execCLI(t, bins, nil, "--config", cfg, "--target", "hcc", "--", "true")
		if code != exitInvalid || !strings.Contains(stderr, `did you mean "hc"`) {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})
	t.Run("config without a target", func(t *testing.T) {
		_, stderr, code := execCLI(t, bins, nil, "--config", cfg, "--", "true")
		if code != exitInvalid || !strings.Contains(stderr, "--target") {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})
}

// Without flags, $HEARTBEAT_URL or runitor's variables name the target,
// with file: indirection for secrets.
func TestExecEnvironment(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	dir := t.TempDir()
	t.Run("HEARTBEAT_URL", func(t *testing.T) {
		uuid := hc.AddCheck(hcfake.NewUUID())
		stdout, stderr, code := execCLI(t, bins, []string{"HEARTBEAT_URL=" + hc.PingURL(uuid)}, "--", "true")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		noSecrets(t, stdout+stderr, uuid)
		pingsOf(t, hc, uuid, 2)
	})
	t.Run("CHECK_UUID from a file with HC_API_URL", func(t *testing.T) {
		uuid := hc.AddCheck(hcfake.NewUUID())
		f := filepath.Join(dir, "uuid")
		if err := os.WriteFile(f, []byte(uuid+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := execCLI(t, bins, []string{"CHECK_UUID=file:" + f, "HC_API_URL=" + hc.BaseURL()}, "--", "true")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		pingsOf(t, hc, uuid, 2)
	})
	t.Run("PING_KEY and CHECK_SLUG with --create", func(t *testing.T) {
		key := hcfake.NewPingKey()
		hc.AddProject(key)
		f := filepath.Join(dir, "key")
		if err := os.WriteFile(f, []byte(key), 0o600); err != nil {
			t.Fatal(err)
		}
		stdout, stderr, code := execCLI(t, bins, []string{"PING_KEY=file:" + f, "CHECK_SLUG=nightly-backup"}, "--api-url", hc.BaseURL(), "--create", "--", "true")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		noSecrets(t, stdout+stderr, key)
		waitFor(t, 30*time.Second, "the check to be created", func() bool { return len(hc.Pings("")) > 0 })
		var created bool
		for _, p := range hc.Pings("") {
			created = created || p.Created
		}
		if !created {
			t.Errorf("no check was created: %+v", hc.Pings(""))
		}
	})
	t.Run("an empty secret file", func(t *testing.T) {
		f := filepath.Join(dir, "empty")
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := execCLI(t, bins, []string{"CHECK_UUID=file:" + f}, "--", "true")
		if code != exitInvalid || !strings.Contains(stderr, "$CHECK_UUID") || !strings.Contains(stderr, "is empty") {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	})
}

// Usage errors are exit 2 with a message naming the fix, before the job
// runs; a URL in error is never quoted.
func TestExecUsageErrors(t *testing.T) {
	bins := buildBinaries(t)
	secret := hcfake.NewUUID()
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	job := []string{"--", "sh", "-c", "touch " + ran}
	cases := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"no command", []string{"--url", "https://hc-ping.com/" + secret}, nil, "missing the command"},
		{"no -- before the command", []string{"--url", "https://hc-ping.com/" + secret, "backup.sh"}, nil, "put -- before the command"},
		{"no target", job, []string{"HEARTBEAT_URL=", "CHECK_UUID="}, "no target to report to"},
		{"bad on-success", append([]string{"--url", "https://hc-ping.com/" + secret, "--on-success", "maybe"}, job...), nil, "use success, fail, log or exit-code"},
		{"every and cron", append([]string{"--url", "https://hc-ping.com/" + secret, "--every", "every 1 hour", "--cron", "* * * * *"}, job...), nil, "give one"},
		{"every as a duration", append([]string{"--url", "https://hc-ping.com/" + secret, "--every", "5m"}, job...), nil, `--every "every 5 minutes"`},
		{"signal suffix in the URL", append([]string{"--url", "https://hc-ping.com/" + secret + "/start"}, job...), nil, "remove it"},
		{"create with a uuid", append([]string{"--uuid", secret, "--create"}, job...), nil, "by slug"},
		{"lock in a missing directory", append([]string{"--url", "https://hc-ping.com/" + secret, "--lock", "/nonexistent/dir/x.lock"}, job...), nil, "does not exist"},
		{"bad header", append([]string{"--url", "https://hc-ping.com/" + secret, "--header", "no colon"}, job...), nil, "Name: value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := execCLI(t, bins, c.env, c.args...)
			if code != exitInvalid || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr, c.want)
			}
			noSecrets(t, stdout+stderr, secret)
			if _, err := os.Stat(ran); err == nil {
				t.Fatalf("the job ran")
			}
		})
	}
}

// heartbeat's own lines never cut the job's lines in two.
func TestExecOutputLines(t *testing.T) {
	bins := buildBinaries(t)
	url := closedURL(t, "/ping")
	script := `i=0; while [ $i -lt 300 ]; do echo "job line $i complete" >&2; i=$((i+1)); done`
	_, stderr, _ := execCLI(t, bins, nil, "--url", url, "--retries", "0", "--log-level", "debug", "--", "sh", "-c", script)
	sc := bufio.NewScanner(strings.NewReader(stderr))
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "job line") {
			n++
			if !strings.HasPrefix(line, "job line") || !strings.HasSuffix(line, "complete") {
				t.Errorf("a job line was cut: %q", line)
			}
		}
	}
	if n != 300 {
		t.Errorf("%d job lines, want 300", n)
	}
}

// --header reaches the tool with every request; its value, a secret, is
// never printed.
func TestExecHeaders(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	uuid := hc.AddCheck(hcfake.NewUUID())
	const key = "proxy-key-0123456789"
	stdout, stderr, code := execCLI(t, bins, nil, "--url", hc.PingURL(uuid), "--header", "X-Proxy-Key: "+key, "--log-level", "debug", "--", "true")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	pingsOf(t, hc, uuid, 2)
	for _, r := range hc.Requests() {
		if r.Header.Get("X-Proxy-Key") != key {
			t.Errorf("%s %s without the header", r.Method, r.Path)
		}
	}
	noSecrets(t, stdout+stderr, uuid, key)
}

// A tool that never answers holds the report no longer than
// --request-timeout per attempt and --report-timeout in all; the job's
// exit status is unchanged.
func TestExecHangingTool(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	uuid := hc.AddCheck(hcfake.NewUUID())
	// Longer than the whole report may last; not much longer, as the fake
	// notices a client gone only once it reads the body, and the test's
	// cleanup waits for its handlers.
	hc.SetDelay(15 * time.Second)
	_, stderr, code := execCLI(t, bins, nil, "--url", hc.PingURL(uuid), "--request-timeout", "1s", "--retries", "5", "--report-timeout", "3s", "--", "sh", "-c", "exit 7")
	if code != 7 {
		t.Fatalf("exit %d, want 7\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "fail signal not delivered") || !strings.Contains(stderr, "timeout") {
		t.Errorf("stderr does not say the tool did not answer:\n%s", stderr)
	}
}
