//go:build unix

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The real Healthchecks server and runitor come from the recipes in
// ../shared/servers (healthchecks/start.sh, pings.sh, stop.sh and
// runitor/build.sh), which build them from git mirrors: the test runs only
// where those are (HC_MIRROR, CRONSIM_MIRROR, FIDO2_MIRROR, and
// RUNITOR_MIRROR or a runitor already built by build.sh).

// rcPing is one ping as pings.sh reads it from the server's database.
type rcPing struct {
	N          int     `json:"n"`
	Kind       *string `json:"kind"`
	ExitStatus *int    `json:"exitstatus"`
	Method     string  `json:"method"`
	UA         string  `json:"ua"`
	Body       string  `json:"body"`
	RID        *string `json:"rid"`
}

func (p rcPing) kind() string {
	if p.Kind == nil {
		return "success"
	}
	return *p.Kind
}

func (p rcPing) exitStatus() string {
	if p.ExitStatus == nil {
		return "none"
	}
	return fmt.Sprint(*p.ExitStatus)
}

func (p rcPing) rid() string {
	if p.RID == nil {
		return ""
	}
	return *p.RID
}

// rcHealthchecks is a Healthchecks server started by start.sh.
type rcHealthchecks struct {
	scripts string // ../shared/servers/healthchecks
	data    string
	site    string // http://127.0.0.1:P
	uuid    string
}

// rcSharedServers finds the recipes for real servers, or skips.
func rcSharedServers(t *testing.T) string {
	t.Helper()
	for _, v := range []string{"HC_MIRROR", "CRONSIM_MIRROR", "FIDO2_MIRROR"} {
		if os.Getenv(v) == "" {
			t.Skipf("needs a real Healthchecks server: set HC_MIRROR, CRONSIM_MIRROR and FIDO2_MIRROR to git mirrors (%s is not set); see ../shared/servers/healthchecks/README.md", v)
		}
	}
	for _, dir := range []string{filepath.Join(repoRoot(t), "..", "shared", "servers"), "/work/shared/servers"} {
		if _, err := os.Stat(filepath.Join(dir, "healthchecks", "start.sh")); err == nil {
			return dir
		}
	}
	t.Skip("needs the real-server recipes in ../shared/servers")
	return ""
}

// rcRunScript runs one of the recipes' scripts, bounded in time.
func rcRunScript(t *testing.T, timeout time.Duration, script string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(script, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		return out.String(), fmt.Errorf("%s did not finish within %s", filepath.Base(script), timeout)
	}
}

func rcBuildRunitor(t *testing.T, servers string) string {
	t.Helper()
	out, err := rcRunScript(t, 10*time.Minute, filepath.Join(servers, "runitor", "build.sh"))
	if err != nil {
		t.Skipf("needs runitor: set RUNITOR_MIRROR to a git mirror of bdd/runitor (build.sh: %v)\n%s", err, rcLastLines(out, 5))
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

func rcStartHealthchecks(t *testing.T, servers string) *rcHealthchecks {
	t.Helper()
	scripts := filepath.Join(servers, "healthchecks")
	if out, err := rcRunScript(t, 10*time.Minute, filepath.Join(scripts, "setup.sh")); err != nil {
		t.Skipf("Healthchecks could not be set up here (setup.sh: %v)\n%s", err, rcLastLines(out, 10))
	}
	data := t.TempDir()
	port := rcFreePort(t)
	t.Cleanup(func() {
		if out, err := rcRunScript(t, time.Minute, filepath.Join(scripts, "stop.sh"), "--data-dir", data); err != nil {
			t.Errorf("stop.sh: %v\n%s", err, out)
		}
	})
	out, err := rcRunScript(t, 2*time.Minute, filepath.Join(scripts, "start.sh"), "--port", fmt.Sprint(port), "--data-dir", data)
	if err != nil {
		t.Fatalf("start.sh: %v\n%s", err, rcLastLines(out, 20))
	}
	pingURL := rcLastLines(out, 1)
	site, uuid, ok := strings.Cut(pingURL, "/ping/")
	if !ok {
		t.Fatalf("start.sh printed %q, not a ping URL", pingURL)
	}
	return &rcHealthchecks{scripts: scripts, data: data, site: site, uuid: uuid}
}

// pings returns every ping the server stored for its check, oldest first.
func (hc *rcHealthchecks) pings(t *testing.T) []rcPing {
	t.Helper()
	cmd := exec.Command(filepath.Join(hc.scripts, "pings.sh"), "--data-dir", hc.data, "--uuid", hc.uuid)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pings.sh: %v\n%s", err, stderr.String())
	}
	var pings []rcPing
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var p rcPing
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatalf("pings.sh line %q: %v", sc.Text(), err)
		}
		pings = append(pings, p)
	}
	return pings
}

func rcFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func rcLastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// rcWrapperEnv is the test's environment without the variables both
// wrappers read, so that only the flags say where pings go.
func rcWrapperEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "HEARTBEAT_URL", "CHECK_UUID", "CHECK_SLUG", "PING_KEY", "HC_API_URL", "HC_PING_KEY", "HEARTBEAT_CONFIG":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// rcRunWrapper runs a wrapper to completion and returns its exit code.
func rcRunWrapper(t *testing.T, argv []string) (int, string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = rcWrapperEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not finish within 2m\n%s", filepath.Base(argv[0]), out.String())
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

var rcUUIDv4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// rcRun is one job run through one wrapper, and the pings it stored.
type rcRun struct {
	code  int
	start rcPing
	end   rcPing
}

// TestExecMatchesRunitorOnRealHealthchecks runs a succeeding and a failing
// job, with output, through runitor and through `heartbeat exec --url`
// against a real Healthchecks server, and compares what the server
// stored: the kinds, the exit status, the body and the run-id pairing
// must match; the differences that are by design are listed below.
func TestExecMatchesRunitorOnRealHealthchecks(t *testing.T) {
	servers := rcSharedServers(t)
	runitor := rcBuildRunitor(t, servers)
	bins := buildBinaries(t)
	hc := rcStartHealthchecks(t, servers)

	jobs := []struct {
		name   string
		script string
		code   int
		kind   string // the finish ping's kind
		status string // the finish ping's exit status
		// lines is the job's output, one entry a line.
		lines []string
	}{
		{"succeeds", `echo "out one"; echo "ünïcödé line"; echo "last"`, 0, "success", "none",
			[]string{"out one", "ünïcödé line", "last"}},
		{"fails", `echo "out before"; echo "err line" >&2; echo "out after"; exit 3`, 3, "fail", "3",
			[]string{"out before", "err line", "out after"}},
	}
	wrappers := []struct {
		name string
		argv func(script string) []string
	}{
		{"runitor", func(script string) []string {
			return []string{runitor, "-api-url", hc.site + "/ping", "-uuid", hc.uuid, "--", "sh", "-c", script}
		}},
		{"heartbeat", func(script string) []string {
			return []string{bins.core, "exec", "--plugin-dir", bins.pluginDir, "--url", hc.site + "/ping/" + hc.uuid, "--", "sh", "-c", script}
		}},
	}

	// Each wrapper runs each job in turn against the same check; the
	// pings each run stored are the ones that appeared meanwhile.
	runs := map[string][]rcRun{}
	for _, w := range wrappers {
		for _, job := range jobs {
			before := len(hc.pings(t))
			code, out := rcRunWrapper(t, w.argv(job.script))
			pings := hc.pings(t)[before:]
			if len(pings) != 2 {
				t.Fatalf("%s, job that %s: %d pings stored, want a start and a finish: %+v\noutput:\n%s", w.name, job.name, len(pings), pings, out)
			}
			runs[w.name] = append(runs[w.name], rcRun{code: code, start: pings[0], end: pings[1]})
		}
	}

	// What each wrapper must do on its own.
	for _, w := range wrappers {
		rids := map[string]bool{}
		for i, job := range jobs {
			r := runs[w.name][i]
			where := fmt.Sprintf("%s, job that %s", w.name, job.name)
			if r.code != job.code {
				t.Errorf("%s: exit code %d, want %d", where, r.code, job.code)
			}
			if r.start.kind() != "start" {
				t.Errorf("%s: first ping is %q, want start", where, r.start.kind())
			}
			if r.end.kind() != job.kind || r.end.exitStatus() != job.status {
				t.Errorf("%s: finish ping is %s with exit status %s, want %s with %s", where, r.end.kind(), r.end.exitStatus(), job.kind, job.status)
			}
			if !rcUUIDv4.MatchString(r.start.rid()) || r.start.rid() != r.end.rid() {
				t.Errorf("%s: start rid %q and finish rid %q, want the same UUID v4", where, r.start.rid(), r.end.rid())
			}
			if rids[r.start.rid()] {
				t.Errorf("%s: rid %q used by an earlier run", where, r.start.rid())
			}
			rids[r.start.rid()] = true
			if got := rcOutputLines(w.name, r.end.Body, job.code); !rcSameLines(got, job.lines) {
				t.Errorf("%s: finish body %q holds the lines %q, want %q", where, r.end.Body, got, job.lines)
			}
		}
	}

	// Side by side. Differences by design:
	//   - ua: each wrapper names itself.
	//   - start method: heartbeat sends a start that carries nothing as a
	//     GET; runitor always POSTs, with an empty body.
	//   - finish body framing: heartbeat's Healthchecks target puts the
	//     outcome ("exit code 3") on the body's first line, so that the
	//     ping log shows why at a glance; runitor appends
	//     "\n[runitor] exit status 3" after the output of a failed job.
	//   - the order of stdout and stderr lines: runitor gives the job one
	//     pipe for both, heartbeat two (so that each still goes to its own
	//     stream live); lines from the two arrive in the order they are read.
	for i, job := range jobs {
		r, h := runs["runitor"][i], runs["heartbeat"][i]
		where := "job that " + job.name
		for _, c := range []struct{ field, runitor, heartbeat string }{
			{"exit code", fmt.Sprint(r.code), fmt.Sprint(h.code)},
			{"start kind", r.start.kind(), h.start.kind()},
			{"finish kind", r.end.kind(), h.end.kind()},
			{"finish exit status", r.end.exitStatus(), h.end.exitStatus()},
			{"finish method", r.end.Method, h.end.Method},
			{"start body", r.start.Body, h.start.Body},
		} {
			if c.runitor != c.heartbeat {
				t.Errorf("%s: %s differs: runitor %q, heartbeat %q", where, c.field, c.runitor, c.heartbeat)
			} else {
				t.Logf("%s: %s matches: %q", where, c.field, c.runitor)
			}
		}
		rl, hl := rcOutputLines("runitor", r.end.Body, job.code), rcOutputLines("heartbeat", h.end.Body, job.code)
		if !rcSameLines(rl, hl) {
			t.Errorf("%s: output in the finish body differs: runitor %q, heartbeat %q", where, rl, hl)
		} else {
			t.Logf("%s: output in the finish body matches: %q", where, hl)
		}
		t.Logf("%s: by design: ua %q vs %q; start method %s vs %s; body %q vs %q",
			where, r.start.UA, h.start.UA, r.start.Method, h.start.Method, r.end.Body, h.end.Body)
		for _, p := range []rcPing{h.start, h.end} {
			if !strings.HasPrefix(p.UA, "heartbeat/") {
				t.Errorf("%s: heartbeat's ping has user agent %q", where, p.UA)
			}
		}
	}
}

// rcOutputLines is the job's output in a finish body, without the framing
// each wrapper adds (see the differences above).
func rcOutputLines(wrapper, body string, code int) []string {
	switch wrapper {
	case "runitor":
		body = strings.TrimSuffix(body, fmt.Sprintf("\n[runitor] exit status %d", code))
	case "heartbeat":
		first, rest, _ := strings.Cut(body, "\n")
		if first == fmt.Sprintf("exit code %d", code) {
			body = rest
		}
	}
	body = strings.TrimSuffix(body, "\n")
	if body == "" {
		return nil
	}
	return strings.Split(body, "\n")
}

// rcSameLines: the same lines, and the lines of each stream in the same
// order (stdout and stderr lines may interleave differently).
func rcSameLines(a, b []string) bool {
	sa, sb := slices.Clone(a), slices.Clone(b)
	slices.Sort(sa)
	slices.Sort(sb)
	if !slices.Equal(sa, sb) {
		return false
	}
	isErr := func(l string) bool { return strings.HasPrefix(l, "err ") }
	keep := func(ls []string, stderr bool) []string {
		var out []string
		for _, l := range ls {
			if isErr(l) == stderr {
				out = append(out, l)
			}
		}
		return out
	}
	return slices.Equal(keep(a, false), keep(b, false)) && slices.Equal(keep(a, true), keep(b, true))
}
