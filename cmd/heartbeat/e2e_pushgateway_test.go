//go:build unix

package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// The real Pushgateway, built by the test from the Go module proxy.
const pushgatewayVersion = "v1.11.5"

// pgUser and pgPassword log in to the gateway; pgPasswordHash is the
// bcrypt hash (cost 4) of pgPassword for its --web.config.file.
const (
	pgUser         = "heartbeat"
	pgPassword     = "heartbeat-e2e-pushgateway-password"
	pgPasswordHash = "$2a$04$ufHinNHDou.O9nq2iJOI9uYkSx4HxZ3xDH667GqHdTYXo1f1FD38K"
)

var pushgatewayBuild struct {
	sync.Once
	path, skip string
	err        error
}

// pushgatewayBinary returns the real Pushgateway, built once with
// `go install` into the user's cache directory and reused by later runs.
// Without network access to the module proxy the test is skipped; any other
// build failure fails it.
func pushgatewayBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: builds the Pushgateway")
	}
	b := &pushgatewayBuild
	b.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "heartbeat-test", "pushgateway", pushgatewayVersion)
		bin := filepath.Join(dir, "pushgateway")
		if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			b.path = bin
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.err = err
			return
		}
		// Built in a directory of its own and renamed into place, so that
		// test processes running at once never see half a binary.
		tmp, err := os.MkdirTemp(dir, "build-")
		if err != nil {
			b.err = err
			return
		}
		defer os.RemoveAll(tmp)
		cmd := exec.Command("go", "install", "github.com/prometheus/pushgateway@"+pushgatewayVersion)
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			if pgNoNetwork(out) {
				b.skip = fmt.Sprintf("cannot build the Pushgateway %s without the Go module proxy (go install: %s): %s", pushgatewayVersion, err, pgLastLines(out, 3))
				return
			}
			b.err = fmt.Errorf("go install github.com/prometheus/pushgateway@%s: %w\n%s", pushgatewayVersion, err, out)
			return
		}
		if err := os.Rename(filepath.Join(tmp, "pushgateway"), bin); err != nil {
			b.err = err
			return
		}
		b.path = bin
	})
	switch {
	case b.skip != "":
		t.Skip(b.skip)
	case b.err != nil:
		t.Fatal(b.err)
	}
	return b.path
}

// pgNoNetwork reports whether go install failed for want of the module
// proxy.
func pgNoNetwork(out []byte) bool {
	for _, sign := range []string{"dial tcp", "no such host", "lookup ", "connection refused", "i/o timeout", "TLS handshake timeout", "network is unreachable", "GOPROXY=off", "module lookup disabled", "proxy.golang.org"} {
		if bytes.Contains(out, []byte(sign)) {
			return true
		}
	}
	return false
}

func pgLastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " / ")
}

// pgGateway is a running Pushgateway on 127.0.0.1.
type pgGateway struct {
	url  string
	logs *syncBuffer
}

// startPushgateway runs the real Pushgateway with basic auth (pgUser,
// pgPassword) until the test ends.
func startPushgateway(t *testing.T) *pgGateway {
	t.Helper()
	bin := pushgatewayBinary(t)
	webConfig := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(webConfig, []byte("basic_auth_users:\n  "+pgUser+": "+pgPasswordHash+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A free port can be taken between the probe and the start: try again.
	for attempt := 0; attempt < 5; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		logs := &syncBuffer{}
		cmd := exec.Command(bin, "--web.listen-address="+addr, "--web.config.file="+webConfig)
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-done
		}
		g := &pgGateway{url: "http://" + addr, logs: logs}
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-done:
				deadline = time.Time{} // exited: the port was taken
				continue
			default:
			}
			if code, _, err := g.get("/-/ready"); err == nil && code == http.StatusOK {
				t.Cleanup(func() {
					stop()
					if t.Failed() {
						t.Logf("pushgateway output:\n%s", logs.String())
					}
				})
				return g
			}
			time.Sleep(50 * time.Millisecond)
		}
		stop()
		t.Logf("pushgateway did not get ready on %s:\n%s", addr, logs.String())
	}
	t.Fatal("could not start the pushgateway")
	return nil
}

func (g *pgGateway) get(path string) (int, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, g.url+path, nil)
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(pgUser, pgPassword)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, err = body.ReadFrom(resp.Body)
	return resp.StatusCode, body.Bytes(), err
}

func (g *pgGateway) push(t *testing.T, path, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(pgUser, pgPassword)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// scrape reads the gateway's /metrics as Prometheus would.
func (g *pgGateway) scrape(t *testing.T) []pqSample {
	t.Helper()
	code, body, err := g.get("/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", code, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	var out []pqSample
	for name, mf := range families {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{"__name__": name}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			var v float64
			switch {
			case m.Gauge != nil:
				v = m.GetGauge().GetValue()
			case m.Counter != nil:
				v = m.GetCounter().GetValue()
			case m.Untyped != nil:
				v = m.GetUntyped().GetValue()
			default:
				continue
			}
			out = append(out, pqSample{labels, v})
		}
	}
	return out
}

// pgValue returns the one sample of metric for heartbeat hb in the e2e's
// groups, and whether there is one.
func pgValue(scrape []pqSample, metric, hb string) (float64, bool) {
	var found []float64
	for _, s := range scrape {
		if s.labels["__name__"] == metric && s.labels["heartbeat"] == hb && s.labels["job"] == "heartbeat" && s.labels["env"] == "e2e/test" {
			found = append(found, s.value)
		}
	}
	if len(found) != 1 {
		return 0, false
	}
	return found[0], true
}

// pgAlertRule is one rule of the doc's alerting rules.
type pgAlertRule struct {
	Alert string `yaml:"alert"`
	Expr  string `yaml:"expr"`
}

// pgDocAlertRules reads the alerting rules of docs/targets/pushgateway.md.
func pgDocAlertRules(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "targets", "pushgateway.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- alert rules: begin -->\n```yaml\n(.*?)```\n<!-- alert rules: end -->").FindSubmatch(data)
	if m == nil {
		t.Fatal("docs/targets/pushgateway.md has no ```yaml block between <!-- alert rules: begin --> and <!-- alert rules: end -->")
	}
	var doc struct {
		Groups []struct {
			Rules []pgAlertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(m[1], &doc); err != nil {
		t.Fatalf("the doc's alerting rules are not YAML: %v", err)
	}
	rules := map[string]string{}
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			rules[r.Alert] = r.Expr
		}
	}
	for _, name := range []string{"HeartbeatMissing", "HeartbeatFailing", "HeartbeatStuck", "HeartbeatPushRefused"} {
		if rules[name] == "" {
			t.Fatalf("the doc's alerting rules lack %s", name)
		}
	}
	return rules
}

// pgFiring returns the heartbeats (of the e2e's groups) an alert's
// expression selects at instant now.
func pgFiring(t *testing.T, expr string, scrape []pqSample, now float64) []string {
	t.Helper()
	res, err := pqEval(expr, scrape, now)
	if err != nil {
		t.Fatalf("evaluating %q: %v", expr, err)
	}
	var hbs []string
	for _, s := range res {
		if s.labels["env"] == "e2e/test" {
			hbs = append(hbs, s.labels["heartbeat"])
		}
	}
	return hbs
}

func pgUnixNow() float64 { return float64(time.Now().UnixNano()) / 1e9 }

// Through the real core and plugin to a real Pushgateway: `send` stores the
// gauges with the beat's time; a failing check stores the exit code and
// leaves the last success as it was; a run in progress and a refused push
// show as the doc's alerting rules say; the password (read from a file)
// never shows.
func TestPushgatewayRealGateway(t *testing.T) {
	bins := buildBinaries(t)
	gw := startPushgateway(t)
	rules := pgDocAlertRules(t)
	dir := t.TempDir()
	exitFile := filepath.Join(dir, "exit-code")
	releaseFile := filepath.Join(dir, "release")
	passwordFile := filepath.Join(dir, "password")
	if err := os.WriteFile(passwordFile, []byte(pgPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exitFile, []byte("0"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  prom:
    plugin: pushgateway
    config:
      url: %[1]q
      username: %[2]s
      password_file: %[3]q
      labels: { env: "e2e/test" }
  prom-conflict:
    plugin: pushgateway
    config:
      url: %[1]q
      username: %[2]s
      password_file: %[3]q
      labels: { env: "e2e/test" }
      metric_prefix: conflict
  prom-wrong-password:
    plugin: pushgateway
    config:
      url: %[1]q
      username: %[2]s
      password: not-the-password-at-all
heartbeats:
  - name: plain
    frequency: every 1 hour
    targets: [prom]
  - name: job
    frequency: every 1 hour
    targets: [prom]
    check: { command: ["sh", "-c", "echo output line; exit $(cat %[4]s)"], timeout: 30s }
  - name: slow
    frequency: every 1 hour
    targets: [prom]
    check: { command: ["sh", "-c", "while [ ! -e %[5]s ]; do sleep 0.05; done"], timeout: 50s }
  - name: refused
    frequency: every 1 hour
    targets: [prom-conflict]
  - name: locked-out
    frequency: every 1 hour
    targets: [prom-wrong-password]
`, gw.url, pgUser, passwordFile, exitFile, releaseFile))
	send := func(t *testing.T, heartbeat string, wantCode int) string {
		t.Helper()
		stdout, stderr, code := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", bins.pluginDir, "--heartbeat", heartbeat)
		if code != wantCode {
			t.Fatalf("send %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", heartbeat, code, wantCode, stdout, stderr)
		}
		out := stdout + stderr
		for _, secret := range []string{pgPassword, "not-the-password-at-all"} {
			if strings.Contains(out, secret) {
				t.Errorf("send %s shows a password:\n%s", heartbeat, out)
			}
		}
		return out
	}
	const (
		success    = "heartbeat_last_success_timestamp_seconds"
		completion = "heartbeat_last_completion_timestamp_seconds"
		start      = "heartbeat_last_start_timestamp_seconds"
		duration   = "heartbeat_duration_seconds"
		exitCode   = "heartbeat_last_exit_code"
	)
	// Times are compared with a millisecond of slack: they are sent with
	// millisecond precision.
	within := func(v, from, to float64) bool { return v >= from-0.002 && v <= to+0.002 }
	var firstSuccess float64

	t.Run("send stores the gauges with the beat's time", func(t *testing.T) {
		before := pgUnixNow()
		send(t, "plain", exitOK)
		send(t, "job", exitOK)
		after := pgUnixNow()
		m := gw.scrape(t)
		v, ok := pgValue(m, success, "plain")
		if !ok || !within(v, before, after) {
			t.Errorf("plain: last success %v (stored %v), want between %v and %v", v, ok, before, after)
		}
		if c, _ := pgValue(m, completion, "plain"); c != v {
			t.Errorf("plain: last completion %v, want the last success %v", c, v)
		}
		if code, ok := pgValue(m, exitCode, "plain"); !ok || code != 0 {
			t.Errorf("plain: exit code %v (%v), want 0", code, ok)
		}
		for _, absent := range []string{start, duration} {
			if _, ok := pgValue(m, absent, "plain"); ok {
				t.Errorf("plain: %s pushed without a check", absent)
			}
		}
		firstSuccess, ok = pgValue(m, success, "job")
		s, _ := pgValue(m, start, "job")
		c, _ := pgValue(m, completion, "job")
		d, _ := pgValue(m, duration, "job")
		if !ok || !within(s, before, after) || !(s <= c) || c != firstSuccess {
			t.Errorf("job: start %v, completion %v, success %v; want start <= completion = success within [%v, %v]", s, c, firstSuccess, before, after)
		}
		if d <= 0 || d > after-before+1 {
			t.Errorf("job: duration %v, want the check's run time", d)
		}
		// The rules: nothing fires now; an hour and five minutes without
		// a success, both are missing.
		now := pgUnixNow()
		for _, rule := range []string{"HeartbeatMissing", "HeartbeatFailing", "HeartbeatStuck", "HeartbeatPushRefused"} {
			if hbs := pgFiring(t, rules[rule], m, now); len(hbs) != 0 {
				t.Errorf("%s fires for %v after successes", rule, hbs)
			}
		}
		if hbs := pgFiring(t, rules["HeartbeatMissing"], m, now+3600+300+60); !pgSameSet(hbs, "plain", "job") {
			t.Errorf("HeartbeatMissing an hour later fires for %v, want plain and job", hbs)
		}
	})

	t.Run("a failing check keeps the last success", func(t *testing.T) {
		if firstSuccess == 0 {
			t.Skip("needs the previous step")
		}
		if err := os.WriteFile(exitFile, []byte("3"), 0o600); err != nil {
			t.Fatal(err)
		}
		before := pgUnixNow()
		send(t, "job", exitOK)
		after := pgUnixNow()
		m := gw.scrape(t)
		if v, _ := pgValue(m, success, "job"); v != firstSuccess {
			t.Errorf("last success %v after a failure, want it unchanged at %v", v, firstSuccess)
		}
		if code, _ := pgValue(m, exitCode, "job"); code != 3 {
			t.Errorf("exit code %v, want 3", code)
		}
		c, _ := pgValue(m, completion, "job")
		s, _ := pgValue(m, start, "job")
		if !within(c, before, after) || !within(s, before, after) || s > c {
			t.Errorf("start %v, completion %v; want start <= completion within [%v, %v]", s, c, before, after)
		}
		now := pgUnixNow()
		if hbs := pgFiring(t, rules["HeartbeatFailing"], m, now); !pgSameSet(hbs, "job") {
			t.Errorf("HeartbeatFailing fires for %v, want job", hbs)
		}
		if hbs := pgFiring(t, rules["HeartbeatMissing"], m, now); len(hbs) != 0 {
			t.Errorf("HeartbeatMissing fires for %v right after a success and a failure", hbs)
		}
		// A success again ends the failure.
		if err := os.WriteFile(exitFile, []byte("0"), 0o600); err != nil {
			t.Fatal(err)
		}
		send(t, "job", exitOK)
		if hbs := pgFiring(t, rules["HeartbeatFailing"], gw.scrape(t), pgUnixNow()); len(hbs) != 0 {
			t.Errorf("HeartbeatFailing fires for %v after a new success", hbs)
		}
	})

	t.Run("a run in progress", func(t *testing.T) {
		// The first run has no completion yet, the second one an older
		// one: HeartbeatStuck covers both once the run is ten minutes old.
		var lastStart float64
		for run := 1; run <= 2; run++ {
			_ = os.Remove(releaseFile)
			done := make(chan string, 1)
			go func() {
				stdout, stderr, _ := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", bins.pluginDir, "--heartbeat", "slow")
				done <- stdout + stderr
			}()
			var m []pqSample
			waitFor(t, 30*time.Second, fmt.Sprintf("the start of run %d of the slow check", run), func() bool {
				m = gw.scrape(t)
				s, ok := pgValue(m, start, "slow")
				return ok && s > lastStart
			})
			lastStart, _ = pgValue(m, start, "slow")
			c, hasCompletion := pgValue(m, completion, "slow")
			if hasCompletion != (run == 2) || hasCompletion && c >= lastStart {
				t.Errorf("run %d: completion %v (%v) while the check runs, start %v", run, c, hasCompletion, lastStart)
			}
			now := pgUnixNow()
			if hbs := pgFiring(t, rules["HeartbeatStuck"], m, now); len(hbs) != 0 {
				t.Errorf("run %d: HeartbeatStuck fires for %v as soon as the run starts", run, hbs)
			}
			if hbs := pgFiring(t, rules["HeartbeatStuck"], m, now+601); !pgSameSet(hbs, "slow") {
				t.Errorf("run %d: HeartbeatStuck ten minutes into the run fires for %v, want slow", run, hbs)
			}
			if err := os.WriteFile(releaseFile, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			select {
			case out := <-done:
				if strings.Contains(out, pgPassword) {
					t.Errorf("send shows the password:\n%s", out)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("send did not finish")
			}
			if hbs := pgFiring(t, rules["HeartbeatStuck"], gw.scrape(t), pgUnixNow()+601); len(hbs) != 0 {
				t.Errorf("run %d: HeartbeatStuck fires for %v once the run finished", run, hbs)
			}
		}
	})

	t.Run("a refused push", func(t *testing.T) {
		// Another job pushed conflict_last_exit_code as a counter: the
		// gateway refuses heartbeat's gauge of that name.
		if code := gw.push(t, "/metrics/job/other", "# TYPE conflict_last_exit_code counter\nconflict_last_exit_code 1\n"); code != http.StatusOK {
			t.Fatalf("setup push answered %d", code)
		}
		out := send(t, "refused", 1)
		for _, want := range []string{"refused the push (400", "inconsistent", "delete the offending group"} {
			if !strings.Contains(out, want) {
				t.Errorf("send output lacks %q:\n%s", want, out)
			}
		}
		m := gw.scrape(t)
		if hbs := pgFiring(t, rules["HeartbeatPushRefused"], m, pgUnixNow()); !pgSameSet(hbs, "refused") {
			t.Errorf("HeartbeatPushRefused fires for %v, want refused", hbs)
		}
	})

	t.Run("heartbeat exec", func(t *testing.T) {
		runExec := func(t *testing.T, script string, wantCode int) {
			t.Helper()
			stdout, stderr, code := runCLI(t, bins, nil, "exec", "--config", cfg, "--plugin-dir", bins.pluginDir, "--target", "prom", "--name", "nightly", "--", "sh", "-c", script)
			if code != wantCode {
				t.Fatalf("exec: exit %d, want the job's %d\nstdout:\n%s\nstderr:\n%s", code, wantCode, stdout, stderr)
			}
			if strings.Contains(stdout+stderr, pgPassword) {
				t.Errorf("exec shows the password:\n%s%s", stdout, stderr)
			}
		}
		before := pgUnixNow()
		runExec(t, "echo out; sleep 0.2; exit 3", 3)
		after := pgUnixNow()
		m := gw.scrape(t)
		s, _ := pgValue(m, start, "nightly")
		c, _ := pgValue(m, completion, "nightly")
		d, _ := pgValue(m, duration, "nightly")
		if !within(s, before, after) || !within(c, before, after) || s > c {
			t.Errorf("start %v, completion %v; want start <= completion within [%v, %v]", s, c, before, after)
		}
		if code, _ := pgValue(m, exitCode, "nightly"); code != 3 {
			t.Errorf("exit code %v, want 3", code)
		}
		if d < 0.2 || d > after-before+1 {
			t.Errorf("duration %v, want the job's run time (at least 0.2s)", d)
		}
		if _, ok := pgValue(m, success, "nightly"); ok {
			t.Error("a failed job pushed a last success")
		}
		// Never succeeded, last run failed: HeartbeatFailing says so.
		if hbs := pgFiring(t, rules["HeartbeatFailing"], m, pgUnixNow()); !pgSameSet(hbs, "nightly") {
			t.Errorf("HeartbeatFailing fires for %v, want nightly", hbs)
		}
		runExec(t, "echo fine", 0)
		m = gw.scrape(t)
		ok, _ := pgValue(m, success, "nightly")
		c, _ = pgValue(m, completion, "nightly")
		if code, _ := pgValue(m, exitCode, "nightly"); code != 0 || ok != c || ok < after {
			t.Errorf("after exit 0: exit code %v, last success %v, completion %v", code, ok, c)
		}
		if hbs := pgFiring(t, rules["HeartbeatFailing"], m, pgUnixNow()); len(hbs) != 0 {
			t.Errorf("HeartbeatFailing fires for %v after the job succeeded", hbs)
		}
	})

	t.Run("plugins check passes", func(t *testing.T) {
		settings := fmt.Sprintf(`{"url": %q, "username": %q, "password": %q, "labels": {"env": "e2e/test"}}`, gw.url, pgUser, pgPassword)
		stdout, stderr, code := runCLI(t, bins, nil, "plugins", "check", filepath.Join(bins.pluginDir, "heartbeat-target-pushgateway"), "--settings", settings)
		if code != exitOK || strings.Contains(stdout, "\nFAIL ") || !strings.Contains(stdout, "PASS beat.live") {
			t.Fatalf("exit %d, want 0 and PASS beat.live\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		if strings.Contains(stdout+stderr, pgPassword) {
			t.Errorf("plugins check shows the password:\n%s%s", stdout, stderr)
		}
	})

	t.Run("a wrong password", func(t *testing.T) {
		out := send(t, "locked-out", 1)
		if !strings.Contains(out, `refused the user name "heartbeat" or its password (401)`) {
			t.Errorf("send output lacks the 401 explanation:\n%s", out)
		}
	})
}

// The daemon beats through the plugin to the real gateway: the last
// success moves on with every beat.
func TestPushgatewayDaemonBeats(t *testing.T) {
	bins := buildBinaries(t)
	gw := startPushgateway(t)
	passwordFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(passwordFile, []byte(pgPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  prom:
    plugin: pushgateway
    config: { url: %q, username: %s, password_file: %q, labels: { env: "e2e/test" } }
heartbeats:
  - name: every-second
    frequency: every 1 sec
    targets: [prom]
`, gw.url, pgUser, passwordFile))
	d := startDaemon(t, bins, "--config", cfg)
	seen := map[float64]bool{}
	waitFor(t, 30*time.Second, "three different last-success times", func() bool {
		if v, ok := pgValue(gw.scrape(t), "heartbeat_last_success_timestamp_seconds", "every-second"); ok {
			seen[v] = true
		}
		return len(seen) >= 3
	})
	stopCleanly(t, d)
	now := pgUnixNow()
	for v := range seen {
		if v > now+0.002 || v < now-60 {
			t.Errorf("last success %v is not a recent Unix time (now %v)", v, now)
		}
	}
	if strings.Contains(d.stderr.String(), pgPassword) {
		t.Error("the daemon's log shows the password")
	}
}

func pgSameSet(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	seen := map[string]int{}
	for _, g := range got {
		seen[g]++
	}
	for _, w := range want {
		if seen[w] != 1 {
			return false
		}
	}
	return true
}
