//go:build unix

package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/schedule"
)

// Fault injection: the real core and plugin processes while plugins are
// killed, targets misbehave, the core is killed or stopped mid-beat, the
// config is reloaded and health checks hang or flood their output.

// maxLateness bounds how late a beat to a healthy target may arrive after
// its fire time while something else misbehaves. A healthy beat takes a few
// milliseconds, but a shared, loaded machine can hold a process back for
// hundreds, so the bound is just under the one-second period of the
// heartbeats it applies to: beats stay matched to their own fire times,
// while a target that held up the others would make them at least its own
// timeout (a second or more) late, or cost them their beats.
const maxLateness = 900 * time.Millisecond

// extraBeats is how many more beats hits holds than the fire times of a
// heartbeat beating every period can explain, allowing each beat to be up
// to maxLateness late. A double beat (two beats for one fire time) shows up
// here however late the machine's load makes either of them.
func extraBeats(hits []time.Time, period time.Duration) int {
	if len(hits) < 2 {
		return 0
	}
	sorted := slices.Clone(hits)
	slices.SortFunc(sorted, func(a, b time.Time) int { return a.Compare(b) })
	span := sorted[len(sorted)-1].Sub(sorted[0])
	return max(len(sorted)-(int((span+maxLateness)/period)+1), 0)
}

// faultServer is an HTTP server on 127.0.0.1 whose answer the test chooses.
// It records when each request arrived and when its handler returned.
type faultServer struct {
	srv *httptest.Server
	// release ends every handler that is still waiting (at cleanup).
	release chan struct{}
	// arrivals receives a value per request without blocking.
	arrivals chan struct{}

	mu      sync.Mutex
	arrived []faultRequest
	ended   []time.Time
	// cut is, per request that waited for the client to give up, how long
	// the client waited.
	cut []faultRequest
}

// faultRequest is one request: when it arrived (or how long it waited) and its path.
type faultRequest struct {
	at   time.Time
	wait time.Duration
	path string
}

type faultHandler func(s *faultServer, w http.ResponseWriter, r *http.Request)

func newFaultServer(t *testing.T, handle faultHandler) *faultServer {
	t.Helper()
	s := &faultServer{release: make(chan struct{}), arrivals: make(chan struct{}, 1000)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.arrived = append(s.arrived, faultRequest{at: time.Now(), path: r.URL.Path})
		s.mu.Unlock()
		select {
		case s.arrivals <- struct{}{}:
		default:
		}
		handle(s, w, r)
		s.mu.Lock()
		s.ended = append(s.ended, time.Now())
		s.mu.Unlock()
	}))
	// Cleanups run last-in first-out: handlers are released before Close
	// waits for them.
	t.Cleanup(s.srv.Close)
	t.Cleanup(func() { close(s.release) })
	return s
}

// arrivedAt lists when the requests arrived, of every path or of the
// paths given.
func (s *faultServer) arrivedAt(paths ...string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Time
	for _, r := range s.arrived {
		if len(paths) == 0 || slices.Contains(paths, r.path) {
			out = append(out, r.at)
		}
	}
	return out
}

func (s *faultServer) endedAt() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ended)
}

// cuts lists how long the requests to path waited for the client to give up.
func (s *faultServer) cuts(path string) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for _, r := range s.cut {
		if r.path == path {
			out = append(out, r.wait)
		}
	}
	return out
}

// answer replies with a status code.
func answer(status int) faultHandler {
	return func(_ *faultServer, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte("answer"))
	}
}

// hang never answers: it waits until the client gives up and records how
// long that took.
func hang(s *faultServer, _ http.ResponseWriter, r *http.Request) {
	start := time.Now()
	select {
	case <-r.Context().Done():
		s.mu.Lock()
		s.cut = append(s.cut, faultRequest{wait: time.Since(start), path: r.URL.Path})
		s.mu.Unlock()
	case <-s.release:
	}
}

// answerAfter answers 200 after d.
func answerAfter(d time.Duration) faultHandler {
	return func(s *faultServer, w http.ResponseWriter, _ *http.Request) {
		select {
		case <-time.After(d):
		case <-s.release:
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("answer"))
	}
}

// resetMidResponse sends the start of an answer, then resets the
// connection (RST, not FIN).
func resetMidResponse(_ *faultServer, w http.ResponseWriter, _ *http.Request) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
	_ = buf.Flush()
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// closedPortURL is a URL on 127.0.0.1 where nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return "http://" + addr
}

// logFieldRE matches key=value pairs of the core's text log; values with
// spaces are quoted.
var logFieldRE = regexp.MustCompile(`([A-Za-z_@][\w@.-]*)=("(?:[^"\\]|\\.)*"|\S+)`)

func logFields(line string) map[string]string {
	fields := map[string]string{}
	for _, m := range logFieldRE.FindAllStringSubmatch(line, -1) {
		v := m[2]
		if strings.HasPrefix(v, `"`) {
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
		}
		fields[m[1]] = v
	}
	return fields
}

// loggedBeat is a beat the log plugin wrote to the core's log.
type loggedBeat struct {
	signal      string
	sequence    int
	scheduledAt time.Time
	// at is when the plugin logged it.
	at      time.Time
	message string
}

func loggedBeats(out, heartbeat string) []loggedBeat {
	var beats []loggedBeat
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, "beat received:") {
			continue
		}
		f := logFields(line)
		if f["heartbeat"] != heartbeat {
			continue
		}
		b := loggedBeat{signal: f["signal"], message: f["message"]}
		b.sequence, _ = strconv.Atoi(f["sequence"])
		b.scheduledAt, _ = time.Parse(time.RFC3339Nano, f["scheduled_at"])
		b.at, _ = time.Parse(time.RFC3339Nano, f["timestamp"])
		beats = append(beats, b)
	}
	return beats
}

// loggedOutcome is a "beat delivered" or "beat not delivered" log line.
type loggedOutcome struct {
	delivered bool
	attempts  int
	duration  time.Duration
	reason    string
	err       string
	result    string
}

func loggedOutcomes(out, heartbeat string) []loggedOutcome {
	var outcomes []loggedOutcome
	for _, line := range strings.Split(out, "\n") {
		var o loggedOutcome
		switch {
		case strings.Contains(line, "heartbeat: beat not delivered"):
		case strings.Contains(line, "heartbeat: beat delivered"):
			o.delivered = true
		default:
			continue
		}
		f := logFields(line)
		if f["heartbeat"] != heartbeat {
			continue
		}
		o.attempts, _ = strconv.Atoi(f["attempts"])
		o.duration, _ = time.ParseDuration(f["duration"])
		o.reason, o.err, o.result = f["reason"], f["error"], f["result"]
		outcomes = append(outcomes, o)
	}
	return outcomes
}

// startTime is the instant the daemon started its heartbeats: the
// scheduled time of the start-up beat, which every heartbeat shares, read
// from a heartbeat sent to the log plugin.
func startTime(t *testing.T, d *daemonProcess, logHeartbeat string) time.Time {
	t.Helper()
	var at time.Time
	waitFor(t, 20*time.Second, "the start-up beat of "+logHeartbeat+" in the log", func() bool {
		for _, b := range loggedBeats(d.stderr.String(), logHeartbeat) {
			if b.sequence == 1 && !b.scheduledAt.IsZero() {
				at = b.scheduledAt
				return true
			}
		}
		return false
	})
	return at
}

// fireMatch is how the beats a server received line up with the fire
// times of their schedule.
type fireMatch struct {
	fires    []time.Time     // fire times from the start to the end of the window
	late     []time.Duration // per received beat: receive time minus its fire time
	missed   []time.Time     // fire times that got no beat
	doubled  []time.Time     // fire times that got more than one beat
	received []bool          // per fire time
	lateOf   []time.Duration // per fire time: how late its first beat came
}

// matchFires lays the fire times of frequency, starting at start (the
// start-up beat) and chained with Schedule.NextFire as the scheduler does,
// over the beats received until end. Each beat belongs to the last fire
// time at or before it; a fire time whose successor is due before end and
// that got no beat is missed.
func matchFires(t *testing.T, frequency string, start time.Time, hits []time.Time, end time.Time) fireMatch {
	t.Helper()
	sched, err := schedule.Parse(frequency)
	if err != nil {
		t.Fatal(err)
	}
	var m fireMatch
	for f := start; !f.After(end); {
		m.fires = append(m.fires, f)
		next, ok := sched.NextFire(f)
		if !ok {
			break
		}
		f = next
	}
	count := make([]int, len(m.fires))
	m.lateOf = make([]time.Duration, len(m.fires))
	for _, h := range hits {
		// A beat cannot precede its fire time; allow for clock granularity.
		i := fireIndex(m.fires, h.Add(5*time.Millisecond))
		if i < 0 || h.After(end) {
			continue
		}
		count[i]++
		if count[i] == 1 {
			m.lateOf[i] = h.Sub(m.fires[i])
		}
		m.late = append(m.late, h.Sub(m.fires[i]))
	}
	m.received = make([]bool, len(m.fires))
	for i, f := range m.fires {
		m.received[i] = count[i] > 0
		if count[i] > 1 {
			m.doubled = append(m.doubled, f)
		}
		if count[i] == 0 && i+1 < len(m.fires) {
			m.missed = append(m.missed, f)
		}
	}
	return m
}

// fireIndex returns the index of the last time in ts at or before at, -1
// if none.
func fireIndex(ts []time.Time, at time.Time) int {
	i := -1
	for j, x := range ts {
		if x.After(at) {
			break
		}
		i = j
	}
	return i
}

func maxDuration(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	return slices.Max(ds)
}

// pluginPids lists the running processes of one bundled plugin.
func pluginPids(t *testing.T, bins binaries, plugin string) []int {
	t.Helper()
	var pids []int
	for _, pid := range pluginProcesses(t, bins.pluginDir) {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err == nil && filepath.Base(exe) == "heartbeat-target-"+plugin && !procZombie(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// onePluginPid waits for exactly one process of plugin and returns it.
func onePluginPid(t *testing.T, bins binaries, plugin string) int {
	t.Helper()
	var pid int
	waitFor(t, 20*time.Second, "one "+plugin+" plugin process", func() bool {
		pids := pluginPids(t, bins, plugin)
		if len(pids) == 1 {
			pid = pids[0]
			return true
		}
		return false
	})
	return pid
}

// procStat reads the state and the process group of pid from /proc.
func procStat(pid int) (state byte, pgrp int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
	rest := b[bytes.LastIndexByte(b, ')')+1:]
	fields := strings.Fields(string(rest))
	if len(fields) < 3 {
		return 0, 0, false
	}
	pgrp, _ = strconv.Atoi(fields[2])
	return fields[0][0], pgrp, true
}

func procZombie(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state == 'Z'
}

// procAlive reports whether pid runs (a zombie has ended).
func procAlive(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

// groupMembers lists the live processes of process group pgid.
func groupMembers(pgid int) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, pg, ok := procStat(pid); ok && pg == pgid && procAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// processesWithArg lists live processes whose command line holds arg.
func processesWithArg(arg string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(arg)) && procAlive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procMemory reads the resident set size of pid in bytes and its thread count.
func procMemory(pid int) (rss int64, threads int, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		switch fields[0] {
		case "VmRSS:":
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			rss = kb << 10
		case "Threads:":
			threads, _ = strconv.Atoi(fields[1])
		}
	}
	return rss, threads, nil
}

func (d *daemonProcess) stillRunning() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// waitExit waits up to timeout for the daemon to exit and returns when it did.
func (d *daemonProcess) waitExit(t *testing.T, timeout time.Duration) time.Time {
	t.Helper()
	select {
	case <-d.done:
		return time.Now()
	case <-time.After(timeout):
		t.Fatalf("daemon did not exit within %s", timeout)
		return time.Time{}
	}
}

// A plugin process killed with SIGKILL while beats are due is started again
// on the next beat that needs it; the beats lost per kill are at most those
// due while the restart backoff holds, and a heartbeat served by another
// plugin is not disturbed at all.
func TestFaultPluginKilledRepeatedly(t *testing.T) {
	bins := buildBinaries(t)
	server := newFaultServer(t, answer(http.StatusOK))
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  web: { plugin: http, config: { url: "%s/beat" }, timeout: 2s }
  console: { plugin: log }
heartbeats:
  - { name: web-beat, frequency: every 1 sec, targets: [web] }
  - { name: log-beat, frequency: every 1 sec, targets: [console] }
`, server.srv.URL))
	d := startDaemon(t, bins, "--config", cfg)
	start := startTime(t, d, "log-beat")
	waitFor(t, 20*time.Second, "three beats", func() bool { return len(server.arrivedAt()) >= 3 })

	const kills = 3
	const spacing = 4500 * time.Millisecond
	killedAt := make([]time.Time, kills)
	resumedAfter := make([]time.Duration, kills)
	restartedAfter := make([]time.Duration, kills)
	for i := range kills {
		pid := onePluginPid(t, bins, "http")
		killedAt[i] = time.Now()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill %d: %v", i+1, err)
		}
		waitFor(t, 70*time.Second, fmt.Sprintf("a new plugin process and beats after kill %d", i+1), func() bool {
			if restartedAfter[i] == 0 {
				if pids := pluginPids(t, bins, "http"); len(pids) == 1 && pids[0] != pid {
					restartedAfter[i] = time.Since(killedAt[i])
				}
			}
			if resumedAfter[i] == 0 {
				for _, at := range server.arrivedAt() {
					if at.After(killedAt[i]) {
						resumedAfter[i] = at.Sub(killedAt[i])
						break
					}
				}
			}
			return restartedAfter[i] > 0 && resumedAfter[i] > 0
		})
		if pids := pluginPids(t, bins, "http"); slices.Contains(pids, pid) {
			t.Errorf("kill %d: the killed process %d still runs", i+1, pid)
		}
		time.Sleep(time.Until(killedAt[i].Add(spacing)))
	}
	end := time.Now()
	if !d.stillRunning() {
		t.Fatal("the daemon exited")
	}

	m := matchFires(t, "every 1 sec", start, server.arrivedAt(), end)
	if len(m.doubled) > 0 {
		t.Errorf("fire times with more than one beat: %v", m.doubled)
	}
	for i := range kills {
		windowEnd := end
		if i+1 < kills {
			windowEnd = killedAt[i+1]
		}
		// The restart backoff documented for the i-th crash in a row.
		backoff := time.Second << i
		var due, lost, allowed int
		var late time.Duration
		for j, f := range m.fires {
			if f.Before(killedAt[i]) || !f.Before(windowEnd) || j+1 == len(m.fires) {
				continue
			}
			due++
			late = max(late, m.lateOf[j])
			if !m.received[j] {
				lost++
			}
			if !f.After(killedAt[i].Add(backoff)) {
				allowed++
			}
		}
		// The beat in flight at the kill may fail as well.
		allowed++
		t.Logf("kill %d: new process %s and first beat %s after the kill; %d of %d due beats lost (at most %d allowed: backoff %s + the beat in flight); max lateness %s",
			i+1, restartedAfter[i].Round(time.Millisecond), resumedAfter[i].Round(time.Millisecond), lost, due, allowed, backoff, late.Round(time.Millisecond))
		if lost > allowed {
			t.Errorf("kill %d: %d beats lost, want at most %d", i+1, lost, allowed)
		}
	}
	for _, o := range loggedOutcomes(d.stderr.String(), "web-beat") {
		if !o.delivered {
			t.Logf("web-beat not delivered: %s (%s, %d attempt(s), %s)", o.err, o.reason, o.attempts, o.duration)
		}
	}
	restarts := strings.Count(d.stderr.String(), "plugin restarted")
	refused := strings.Count(d.stderr.String(), "crashed and is restarted in")
	t.Logf("plugin restarts logged: %d; beats refused during restart backoff: %d", restarts, refused)
	if restarts != kills {
		t.Errorf("%d restarts logged, want %d", restarts, kills)
	}

	// The log plugin's heartbeat went on undisturbed: every tick, on time.
	var logLate []time.Duration
	beats := loggedBeats(d.stderr.String(), "log-beat")
	for i, b := range beats {
		if b.sequence != i+1 {
			t.Fatalf("log-beat sequence %d at position %d: a tick was skipped", b.sequence, i+1)
		}
		logLate = append(logLate, b.at.Sub(b.scheduledAt))
	}
	after := 0
	for _, b := range beats {
		if b.at.After(killedAt[0]) {
			after++
		}
	}
	wantAfter := int(end.Sub(killedAt[0])/time.Second) - 1
	t.Logf("log-beat: %d beats while the http plugin was killed (want >= %d), max lateness %s",
		after, wantAfter, maxDuration(logLate).Round(time.Millisecond))
	if after < wantAfter {
		t.Errorf("log-beat got %d beats after the first kill, want >= %d", after, wantAfter)
	}
	if late := maxDuration(logLate); late > maxLateness {
		t.Errorf("log-beat beat up to %s late, want under %s", late, maxLateness)
	}
}

// A core killed with SIGKILL while a health check command runs leaves
// neither plugins nor the check's processes behind.
func TestFaultCoreKilledDuringHealthCheck(t *testing.T) {
	bins := buildBinaries(t)
	marker := fmt.Sprintf("heartbeat-fault-check-%d", time.Now().UnixNano())
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  console: { plugin: log }
heartbeats:
  - name: svc
    frequency: every 1 hour
    targets: [console]
    check: { command: [sh, -c, "sleep 30; echo %s"], timeout: 60s }
`, marker))
	d := startDaemon(t, bins, "--config", cfg)
	var shell int
	waitFor(t, 20*time.Second, "the health check command to run", func() bool {
		// The check runs under heartbeat's wrapper: both carry the marker,
		// and both lead to the same process group.
		pids := processesWithArg(marker)
		if len(pids) == 0 {
			return false
		}
		shell = pids[0]
		_, pgid, _ := procStat(shell)
		return len(groupMembers(pgid)) >= 3 // wrapper, shell, sleep

	})
	_, pgid, _ := procStat(shell)
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	check := groupMembers(pgid)
	if len(check) < 2 {
		t.Fatalf("health check process group %d holds %v, want the shell and sleep", pgid, check)
	}
	if len(pluginPids(t, bins, "log")) != 1 {
		t.Fatal("the log plugin does not run")
	}

	_ = d.cmd.Process.Kill()
	<-d.done
	killed := time.Now()
	waitFor(t, 5*time.Second, "plugin processes to exit", func() bool { return len(pluginProcesses(t, bins.pluginDir)) == 0 })
	for time.Since(killed) < 5*time.Second && len(groupMembers(pgid)) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if left := groupMembers(pgid); len(left) > 0 {
		t.Errorf("the health check's processes %v (of %v) outlive the killed core by 5s", left, check)
	}
}

// A misbehaving target gets the delivery policy it asks for, and never
// delays a heartbeat to a healthy target served by the same plugin process.
//
// The faulty target serves two heartbeats: "faulty" beats hourly, so only
// its start-up beat falls in the test and no next beat cuts its retries;
// "faulty-loop" keeps the fault going every two seconds meanwhile.
func TestFaultTargetMisbehaves(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name string
		// handler answers the faulty target; nil: nothing listens.
		handler faultHandler
		policy  string
		// check looks at the outcome of the faulty start-up beat and at the
		// requests its server got for it.
		check func(t *testing.T, o loggedOutcome, s *faultServer)
	}{
		{"500 retried", answer(http.StatusInternalServerError), "retries: 2, retry_backoff: 100ms, timeout: 2s",
			func(t *testing.T, o loggedOutcome, s *faultServer) {
				if o.delivered || o.attempts != 3 || o.reason != "temporary" || !strings.Contains(o.err, "500 Internal Server Error") {
					t.Errorf("outcome %+v, want not delivered after 3 attempts (1 + 2 retries), temporary, 500", o)
				}
				if n := len(s.arrivedAt("/bad")); n != 3 {
					t.Errorf("server got %d requests for the beat, want 3", n)
				}
			}},
		{"429 not retried", answer(http.StatusTooManyRequests), "retries: 2, retry_backoff: 100ms, timeout: 2s",
			func(t *testing.T, o loggedOutcome, s *faultServer) {
				if o.delivered || o.attempts != 1 || o.reason != "rate_limited" || !strings.Contains(o.err, "slow down") {
					t.Errorf("outcome %+v, want not delivered after 1 attempt, rate_limited, an error saying to slow down", o)
				}
				if n := len(s.arrivedAt("/bad")); n != 1 {
					t.Errorf("server got %d requests for the beat, want 1", n)
				}
			}},
		{"hanging past the timeout", hang, "retries: 0, timeout: 1s",
			func(t *testing.T, o loggedOutcome, s *faultServer) {
				if o.delivered || !strings.Contains(o.err, "no answer within the timeout of 1s") || o.duration > 10*time.Second {
					t.Errorf("outcome %+v, want not delivered, cut by the 1s timeout", o)
				}
				cuts := s.cuts("/bad")
				if len(cuts) != 1 {
					t.Fatalf("the hanging request was given up %d times, want once", len(cuts))
				}
				t.Logf("the hanging request was given up after %s", cuts[0].Round(time.Millisecond))
				// Not before the 1 s timeout; long before the hang ends.
				if cuts[0] < 800*time.Millisecond || cuts[0] > 10*time.Second {
					t.Errorf("the hanging request was given up after %s, want about 1s", cuts[0])
				}
			}},
		{"refusing connections", nil, "retries: 0, timeout: 2s",
			func(t *testing.T, o loggedOutcome, _ *faultServer) {
				if o.delivered || o.reason != "temporary" || !strings.Contains(o.err, "connection refused") {
					t.Errorf("outcome %+v, want not delivered, temporary, connection refused", o)
				}
			}},
		{"resetting mid-response", resetMidResponse, "retries: 0, timeout: 2s",
			func(t *testing.T, o loggedOutcome, _ *faultServer) {
				if o.delivered || o.reason != "temporary" || !(strings.Contains(o.err, "reset") || strings.Contains(o.err, "EOF")) {
					t.Errorf("outcome %+v, want not delivered, temporary, connection reset", o)
				}
			}},
		{"answering slowly", answerAfter(2 * time.Second), "timeout: 4s",
			func(t *testing.T, o loggedOutcome, _ *faultServer) {
				if !o.delivered || o.duration < 1900*time.Millisecond {
					t.Errorf("outcome %+v, want delivered after about 2s", o)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			healthy := newFaultServer(t, answer(http.StatusOK))
			var faulty *faultServer
			faultyURL := closedPortURL(t)
			if tt.handler != nil {
				faulty = newFaultServer(t, tt.handler)
				faultyURL = faulty.srv.URL
			}
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  good: { plugin: http, config: { url: "%[1]s/good" }, timeout: 2s }
  bad: { plugin: http, config: { url: "%[2]s/bad" }, %[3]s }
  bad-loop: { plugin: http, config: { url: "%[2]s/loop" }, %[3]s }
  console: { plugin: log }
heartbeats:
  - { name: healthy, frequency: every 1 sec, targets: [good] }
  - { name: faulty, cron: "0 0 1 1 *", targets: [bad] }
  - { name: faulty-loop, frequency: every 2 sec, targets: [bad-loop] }
  - { name: clock, frequency: every 1 hour, targets: [console] }
`, healthy.srv.URL, faultyURL, tt.policy))
			// The faulty heartbeat beats at start-up and then only on New
			// Year: each case counts the requests of that one beat, and an
			// hourly schedule would beat again when a case runs across the
			// hour.
			d := startDaemon(t, bins, "--config", cfg)
			start := startTime(t, d, "clock")
			var first loggedOutcome
			waitFor(t, 20*time.Second, "the outcome of the faulty start-up beat", func() bool {
				o := loggedOutcomes(d.stderr.String(), "faulty")
				if len(o) > 0 {
					first = o[0]
					return true
				}
				return false
			})
			// Watch the healthy heartbeat while the fault goes on.
			time.Sleep(4 * time.Second)
			end := time.Now()
			if !d.stillRunning() {
				t.Fatal("the daemon exited")
			}
			m := matchFires(t, "every 1 sec", start, healthy.arrivedAt(), end)
			t.Logf("healthy heartbeat: %d beats, lateness %s, max %s", len(m.late), roundAll(m.late), maxDuration(m.late).Round(time.Millisecond))
			if len(m.missed) > 0 || len(m.doubled) > 0 {
				t.Errorf("healthy heartbeat: missed fire times %v, doubled %v", m.missed, m.doubled)
			}
			if late := maxDuration(m.late); late > maxLateness {
				t.Errorf("healthy heartbeat up to %s late, want under %s", late, maxLateness)
			}
			if loops := loggedOutcomes(d.stderr.String(), "faulty-loop"); len(loops) == 0 {
				t.Error("the faulty-loop heartbeat logged no outcome")
			}
			t.Logf("faulty target: start-up beat outcome %+v", first)
			tt.check(t, first, faulty)
		})
	}
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// A reload that changes only a target's settings keeps the plugin process
// and the heartbeat's timing; one that removes a heartbeat stops it; one
// that needs a new plugin starts it.
func TestFaultReload(t *testing.T) {
	bins := buildBinaries(t)
	reload := func(t *testing.T, d *daemonProcess, path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		before := strings.Count(d.stderr.String(), "config reloaded")
		_ = d.cmd.Process.Signal(syscall.SIGHUP)
		waitFor(t, 10*time.Second, "the reload", func() bool {
			out := d.stderr.String()
			if strings.Contains(out, "config reload rejected") {
				t.Fatalf("reload rejected:\n%s", out)
			}
			return strings.Count(out, "config reloaded") > before
		})
	}

	t.Run("target URL changed", func(t *testing.T) {
		first := newFaultServer(t, answer(http.StatusOK))
		second := newFaultServer(t, answer(http.StatusOK))
		config := func(url string) string {
			return fmt.Sprintf(`
targets:
  web: { plugin: http, config: { url: "%s/beat" } }
heartbeats:
  - { name: svc, frequency: every 1 sec, targets: [web] }
`, url)
		}
		path := writeConfig(t, config(first.srv.URL))
		d := startDaemon(t, bins, "--config", path)
		waitFor(t, 20*time.Second, "beats to the first server", func() bool { return len(first.arrivedAt()) >= 2 })
		pid := onePluginPid(t, bins, "http")
		reload(t, d, path, config(second.srv.URL))
		waitFor(t, 10*time.Second, "beats to the second server", func() bool { return len(second.arrivedAt()) >= 3 })
		if after := pluginPids(t, bins, "http"); !slices.Equal(after, []int{pid}) {
			t.Errorf("http plugin processes %v after the reload, want the same process %d", after, pid)
		}
		if strings.Contains(d.stderr.String(), "plugin restarted") {
			t.Error("the plugin was restarted")
		}
		all := append(first.arrivedAt(), second.arrivedAt()...)
		if n := extraBeats(all, time.Second); n > 0 {
			t.Errorf("%d more beats than fire times around the reload: a double beat (beats at %v)", n, all)
		}
	})

	t.Run("heartbeat removed", func(t *testing.T) {
		kept := newFaultServer(t, answer(http.StatusOK))
		removed := newFaultServer(t, answer(http.StatusOK))
		both := fmt.Sprintf(`
targets:
  kept: { plugin: http, config: { url: "%s/kept" } }
  removed: { plugin: http, config: { url: "%s/removed" } }
heartbeats:
  - { name: kept, frequency: every 1 sec, targets: [kept] }
  - { name: removed, frequency: every 1 sec, targets: [removed] }
`, kept.srv.URL, removed.srv.URL)
		path := writeConfig(t, both)
		d := startDaemon(t, bins, "--config", path)
		waitFor(t, 20*time.Second, "beats of both heartbeats", func() bool {
			return len(kept.arrivedAt()) >= 2 && len(removed.arrivedAt()) >= 2
		})
		reload(t, d, path, fmt.Sprintf(`
targets:
  kept: { plugin: http, config: { url: "%s/kept" } }
heartbeats:
  - { name: kept, frequency: every 1 sec, targets: [kept] }
`, kept.srv.URL))
		// A beat that had already started may still land.
		time.Sleep(500 * time.Millisecond)
		n, k := len(removed.arrivedAt()), len(kept.arrivedAt())
		time.Sleep(2500 * time.Millisecond)
		if extra := len(removed.arrivedAt()) - n; extra > 0 {
			t.Errorf("%d beats of the removed heartbeat after the reload", extra)
		}
		if got := len(kept.arrivedAt()) - k; got < 2 {
			t.Errorf("the kept heartbeat beat %d times in 2.5s after the reload, want >= 2", got)
		}
	})

	t.Run("new plugin", func(t *testing.T) {
		server := newFaultServer(t, answer(http.StatusOK))
		config := func(extraTarget, extraHeartbeat string) string {
			return fmt.Sprintf(`
targets:
  web: { plugin: http, config: { url: "%s/beat" } }
%s
heartbeats:
  - { name: svc, frequency: every 1 sec, targets: [web] }
%s
`, server.srv.URL, extraTarget, extraHeartbeat)
		}
		path := writeConfig(t, config("", ""))
		d := startDaemon(t, bins, "--config", path)
		waitFor(t, 20*time.Second, "beats", func() bool { return len(server.arrivedAt()) >= 2 })
		pid := onePluginPid(t, bins, "http")
		if pids := pluginPids(t, bins, "log"); len(pids) > 0 {
			t.Fatalf("the log plugin runs before it is used: %v", pids)
		}
		reload(t, d, path, config("  console: { plugin: log }", "  - { name: added, frequency: every 1 sec, targets: [console] }"))
		onePluginPid(t, bins, "log")
		waitFor(t, 10*time.Second, "beats of the added heartbeat", func() bool { return len(loggedBeats(d.stderr.String(), "added")) >= 2 })
		if after := pluginPids(t, bins, "http"); !slices.Equal(after, []int{pid}) {
			t.Errorf("http plugin processes %v after the reload, want the same process %d", after, pid)
		}
	})
}

// SIGTERM while a beat is in flight lets that beat finish: the server sends
// its whole answer, the core reports the beat delivered, exits 0 as soon as
// nothing is in flight any more, and leaves no plugin behind.
func TestFaultSIGTERMLetsBeatInFlightFinish(t *testing.T) {
	bins := buildBinaries(t)
	const answerDelay = 3 * time.Second
	server := newFaultServer(t, answerAfter(answerDelay))
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  web: { plugin: http, config: { url: "%s/beat" }, timeout: 10s }
heartbeats:
  - { name: svc, frequency: every 1 hour, targets: [web] }
`, server.srv.URL))
	d := startDaemon(t, bins, "--config", cfg)
	select {
	case <-server.arrivals:
	case <-time.After(20 * time.Second):
		t.Fatal("the start-up beat did not reach the server")
	}
	signalled := time.Now()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	exited := d.waitExit(t, 30*time.Second)
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
	ended := server.endedAt()
	if len(ended) != 1 {
		t.Fatalf("server finished %d answers, want 1", len(ended))
	}
	o := loggedOutcomes(d.stderr.String(), "svc")
	if len(o) != 1 || !o[0].delivered || o[0].result != "200 OK" {
		t.Errorf("outcomes %+v, want the in-flight beat delivered with 200 OK", o)
	}
	if pids := pluginProcesses(t, bins.pluginDir); len(pids) > 0 {
		t.Errorf("plugin processes left after exit: %v", pids)
	}
	linger := exited.Sub(ended[0])
	t.Logf("SIGTERM to exit: %s; the beat in flight ended %s after SIGTERM; exit %s after it",
		exited.Sub(signalled).Round(time.Millisecond), ended[0].Sub(signalled).Round(time.Millisecond), linger.Round(time.Millisecond))
	// The shutdown grace is 10s: a core that waits it out in full instead of
	// exiting when the last beat ends lingers about 7s here.
	if linger > 5*time.Second {
		t.Errorf("the core exited %s after the last beat in flight ended, want at once", linger.Round(time.Millisecond))
	}
	if strings.Contains(d.stderr.String(), "cancelling them") {
		t.Error("the core says it cancelled beats in flight at shutdown")
	}
}

// A second SIGTERM, well after the first, ends the core at once even with a
// beat still in flight, and the plugins with it.
func TestFaultSecondSIGTERMExitsAtOnce(t *testing.T) {
	bins := buildBinaries(t)
	server := newFaultServer(t, hang)
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  web: { plugin: http, config: { url: "%s/beat" }, timeout: 60s }
heartbeats:
  - { name: svc, frequency: every 1 hour, targets: [web] }
`, server.srv.URL))
	d := startDaemon(t, bins, "--config", cfg)
	select {
	case <-server.arrivals:
	case <-time.After(20 * time.Second):
		t.Fatal("the start-up beat did not reach the server")
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(time.Second)
	if !d.stillRunning() {
		t.Fatal("the core exited on the first SIGTERM with a beat in flight")
	}
	second := time.Now()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	exited := d.waitExit(t, 30*time.Second)
	t.Logf("second SIGTERM to exit: %s, exit code %d", exited.Sub(second).Round(time.Millisecond), d.cmd.ProcessState.ExitCode())
	// At once: well under the 10 s grace, however loaded the machine.
	if took := exited.Sub(second); took > 5*time.Second {
		t.Errorf("the core took %s to exit after the second SIGTERM, want at once", took)
	}
	waitFor(t, 5*time.Second, "plugin processes to exit", func() bool { return len(pluginProcesses(t, bins.pluginDir)) == 0 })
}

// A health check command that hangs is cut at its timeout and reported as a
// failure; the next beat still starts on time.
func TestFaultHealthCheckHangs(t *testing.T) {
	bins := buildBinaries(t)
	const frequency = "every 3 sec"
	cfg := writeConfig(t, `
targets:
  console: { plugin: log }
heartbeats:
  - name: svc
    frequency: `+frequency+`
    targets: [console]
    check: { command: [sleep, "30"], timeout: 1s }
`)
	sched, err := schedule.Parse(frequency)
	if err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, bins, "--config", cfg)
	var beats []loggedBeat
	waitFor(t, 30*time.Second, "three failed checks", func() bool {
		beats = loggedBeats(d.stderr.String(), "svc")
		fails := 0
		for _, b := range beats {
			if b.signal == "fail" {
				fails++
			}
		}
		return fails >= 3
	})
	starts := map[int]loggedBeat{}
	fails := map[int]loggedBeat{}
	last := 0
	for _, b := range beats {
		switch b.signal {
		case "start":
			starts[b.sequence] = b
			last = max(last, b.sequence)
		case "fail":
			fails[b.sequence] = b
			if !strings.Contains(b.message, "did not finish within 1s") {
				t.Errorf("fail message %q, want the check's timeout", b.message)
			}
		default:
			t.Errorf("signal %s, want start and fail only", b.signal)
		}
	}
	var startLate, checkTook []time.Duration
	for seq := 1; seq <= last; seq++ {
		start, ok := starts[seq]
		if !ok {
			// The start-up beat's next fire time may come less than the
			// check's timeout after it: then that tick is skipped.
			if seq == 2 {
				continue
			}
			t.Errorf("tick %d was skipped", seq)
			continue
		}
		startLate = append(startLate, start.at.Sub(start.scheduledAt))
		next, _ := sched.NextFire(start.scheduledAt)
		room := next.Sub(start.scheduledAt)
		fail, ok := fails[seq]
		switch {
		case !ok && seq < last && room >= 2*time.Second:
			t.Errorf("tick %d: no fail signal, with %s until the next beat", seq, room)
		case ok:
			checkTook = append(checkTook, fail.at.Sub(start.at))
		}
	}
	t.Logf("start signals late by %s; start to fail %s", roundAll(startLate), roundAll(checkTook))
	if late := maxDuration(startLate); late > maxLateness {
		t.Errorf("a start signal was %s late, want under %s", late, maxLateness)
	}
	for _, took := range checkTook {
		// Not before the check's 1 s timeout; well before the check's own
		// 30 s, however loaded the machine.
		if took < 900*time.Millisecond || took > 10*time.Second {
			t.Errorf("start to fail took %s, want about the check's 1s timeout", took)
		}
	}
	if !d.stillRunning() {
		t.Fatal("the daemon exited")
	}
}

// A health check whose timeout reaches the next beat still reports its
// failure: the fail signal is what tells the monitoring tool why.
func TestFaultHealthCheckTimeoutReachesNextBeat(t *testing.T) {
	bins := buildBinaries(t)
	cfg := writeConfig(t, `
targets:
  console: { plugin: log }
heartbeats:
  - name: svc
    frequency: every 2 sec
    targets: [console]
    check: { command: [sleep, "30"], timeout: 2s }
`)
	d := startDaemon(t, bins, "--config", cfg)
	waitFor(t, 20*time.Second, "three start signals", func() bool {
		n := 0
		for _, b := range loggedBeats(d.stderr.String(), "svc") {
			if b.signal == "start" {
				n++
			}
		}
		return n >= 3
	})
	var fails int
	for _, b := range loggedBeats(d.stderr.String(), "svc") {
		if b.signal == "fail" {
			fails++
		}
	}
	dropped := 0
	for _, o := range loggedOutcomes(d.stderr.String(), "svc") {
		if !o.delivered {
			dropped++
		}
	}
	skipped := strings.Count(d.stderr.String(), "previous beat still in progress")
	t.Logf("fail signals delivered: %d; not delivered: %d; ticks skipped: %d", fails, dropped, skipped)
	if fails == 0 {
		t.Error("no fail signal delivered: a check that runs until the next fire time must still get its result out")
	}
}

// A health check that prints 50 MB does not hold the core's memory: only
// the tail of its output is kept, and the beat is delivered.
func TestFaultHealthCheckFloodsOutput(t *testing.T) {
	bins := buildBinaries(t)
	server := newFaultServer(t, answer(http.StatusOK))
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  web: { plugin: http, config: { url: "%s/beat" } }
heartbeats:
  - name: svc
    frequency: every 2 sec
    targets: [web]
    check: { command: [sh, -c, "yes | head -c 50000000"], timeout: 30s }
`, server.srv.URL))
	d := startDaemon(t, bins, "--config", cfg)
	var peak int64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if rss, _, err := procMemory(d.cmd.Process.Pid); err == nil {
				peak = max(peak, rss)
			}
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	waitFor(t, 30*time.Second, "three beats", func() bool { return len(server.arrivedAt()) >= 3 })
	close(done)
	<-sampled
	t.Logf("core VmRSS peak while the check printed 50 MB per beat: %.1f MB", float64(peak)/(1<<20))
	if peak == 0 {
		t.Fatal("could not read the core's VmRSS")
	}
	if peak > 200<<20 {
		t.Errorf("core VmRSS peaked at %d MB, want < 200 MB", peak>>20)
	}
	for _, o := range loggedOutcomes(d.stderr.String(), "svc") {
		if !o.delivered {
			t.Errorf("beat not delivered: %+v", o)
		}
	}
}
