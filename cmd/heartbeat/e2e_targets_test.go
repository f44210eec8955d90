//go:build unix

package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/healthchecks/hcfake"
	"github.com/seed-e9b80cf6/heartbeat/plugins/uptimekuma/kumafake"
)

// End-to-end tests of the Healthchecks and Uptime Kuma targets: the real
// core and the real plugin processes against the fakes of both tools.

// sendOnce runs `heartbeat send` on a config and returns its output.
func sendOnce(t *testing.T, bins binaries, env []string, cfg string) (stdout, stderr string, code int) {
	t.Helper()
	return runCLI(t, bins, env, "send", "--config", cfg, "--plugin-dir", bins.pluginDir)
}

// assertNoSecret fails when any secret appears in out.
func assertNoSecret(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("output shows the secret %q:\n%s", s, out)
		}
	}
}

// assertOneFailLine checks that send printed exactly one line, a FAIL line
// holding every want.
func assertOneFailLine(t *testing.T, stdout, stderr string, code int, want ...string) {
	t.Helper()
	if code != exitFailed {
		t.Errorf("exit code %d, want %d", code, exitFailed)
	}
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "FAIL ") {
		t.Errorf("stdout is not one FAIL line:\n%s", stdout)
	}
	for _, w := range want {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}
	if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
		t.Errorf("crashed:\n%s", stderr)
	}
}

// stopCleanly sends SIGTERM and expects exit code 0.
func stopCleanly(t *testing.T, d *daemonProcess) {
	t.Helper()
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
}

func TestTargetsHealthchecksDaemonBeats(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name string
		// setup registers a check and returns the target's settings (YAML
		// flow mapping), the check's UUID and the secrets it uses.
		setup func(hc *hcfake.Server) (settings, uuid string, secrets []string)
	}{
		{"ping_url", func(hc *hcfake.Server) (string, string, []string) {
			uuid := hc.AddCheck(hcfake.NewUUID())
			return fmt.Sprintf("{ ping_url: %q }", hc.PingURL(uuid)), uuid, []string{uuid}
		}},
		{"base_url and uuid", func(hc *hcfake.Server) (string, string, []string) {
			uuid := hc.AddCheck(hcfake.NewUUID())
			return fmt.Sprintf("{ base_url: %q, uuid: %q }", hc.BaseURL(), uuid), uuid, []string{uuid}
		}},
		{"base_url, ping_key and slug", func(hc *hcfake.Server) (string, string, []string) {
			key := hcfake.NewPingKey()
			uuid := hc.AddSlugCheck(key, "butler-sos")
			return fmt.Sprintf("{ base_url: %q, ping_key: %q, slug: butler-sos }", hc.BaseURL(), key), uuid, []string{key, uuid}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hc := hcfake.New(t, hcfake.Config{})
			settings, uuid, secrets := tt.setup(hc)
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  hc:
    plugin: healthchecks
    config: %s
heartbeats:
  - name: every-second
    frequency: every 1 sec
    targets: [hc]
`, settings))
			d := startDaemon(t, bins, "--config", cfg)
			// The start-up beat and two scheduled ones.
			waitFor(t, 20*time.Second, "three pings", func() bool { return len(hc.Pings(uuid)) >= 3 })
			stopCleanly(t, d)

			reqs := hc.Requests()
			if len(reqs) < 3 {
				t.Fatalf("%d requests, want at least 3", len(reqs))
			}
			for i, r := range reqs {
				if r.Status != http.StatusOK || r.Answer != "OK" {
					t.Errorf("request %d answered %d %q, want 200 OK", i, r.Status, r.Answer)
				}
				if r.Ping == nil {
					t.Errorf("request %d stored no ping", i)
					continue
				}
				p := r.Ping
				if p.Check != uuid || p.Kind != hcfake.KindSuccess || p.ExitStatus != nil {
					t.Errorf("ping %d: check %s kind %s exit %v, want check %s kind success", i, p.Check, p.Kind, p.ExitStatus, uuid)
				}
				if p.Method != http.MethodGet {
					t.Errorf("ping %d: method %s, want GET", i, p.Method)
				}
				if !strings.HasPrefix(p.UserAgent, "heartbeat/") {
					t.Errorf("ping %d: User-Agent %q, want heartbeat/<version>", i, p.UserAgent)
				}
				if len(r.Body) != 0 || len(p.Body) != 0 {
					t.Errorf("ping %d: body %q, want none for a plain beat", i, r.Body)
				}
				if len(r.Query) != 0 {
					t.Errorf("ping %d: query %v, want none", i, r.Query)
				}
			}
			assertNoSecret(t, d.stderr.String(), secrets...)
		})
	}
}

func TestTargetsHealthchecksSendNotFound(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name   string
		flavor hcfake.Flavor
		answer string
		// settings returns the target's settings and its secrets.
		settings func(hc *hcfake.Server) (string, []string)
	}{
		{"hc-ping.com: 200 OK (not found)", hcfake.Hosted, "OK (not found)", func(hc *hcfake.Server) (string, []string) {
			uuid := hcfake.NewUUID()
			return fmt.Sprintf("{ ping_url: %q }", hc.PingURL(uuid)), []string{uuid}
		}},
		{"hc-ping.com: deleted check", hcfake.Hosted, "OK (not found)", func(hc *hcfake.Server) (string, []string) {
			uuid := hc.AddCheck(hcfake.NewUUID())
			hc.SetState(uuid, hcfake.Deleted)
			return fmt.Sprintf("{ ping_url: %q }", hc.PingURL(uuid)), []string{uuid}
		}},
		{"self-hosted: 404 not found", hcfake.SelfHosted, "not found", func(hc *hcfake.Server) (string, []string) {
			uuid := hcfake.NewUUID()
			return fmt.Sprintf("{ base_url: %q, uuid: %q }", hc.BaseURL(), uuid), []string{uuid}
		}},
		{"self-hosted: unknown slug", hcfake.SelfHosted, "not found", func(hc *hcfake.Server) (string, []string) {
			key := hcfake.NewPingKey()
			hc.AddProject(key)
			return fmt.Sprintf("{ base_url: %q, ping_key: %q, slug: nosuch }", hc.BaseURL(), key), []string{key}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hc := hcfake.New(t, hcfake.Config{Flavor: tt.flavor})
			settings, secrets := tt.settings(hc)
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  hc: { plugin: healthchecks, config: %s }
heartbeats:
  - { name: svc, frequency: every 1 hour, targets: [hc] }
`, settings))
			stdout, stderr, code := sendOnce(t, bins, nil, cfg)
			assertOneFailLine(t, stdout, stderr, code, "FAIL svc -> hc", "Healthchecks has no check", "not_found")
			assertNoSecret(t, stdout+stderr, secrets...)
			reqs := hc.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1 (not found is not retried)", len(reqs))
			}
			if reqs[0].Answer != tt.answer {
				t.Errorf("the fake answered %q, want %q", reqs[0].Answer, tt.answer)
			}
		})
	}
}

func TestTargetsHealthchecksSendRateLimited(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name     string
		status   int
		settings func(hc *hcfake.Server) (string, []string)
	}{
		{"UUID: 200 OK (rate limited)", http.StatusOK, func(hc *hcfake.Server) (string, []string) {
			uuid := hc.AddCheck(hcfake.NewUUID())
			hc.SetState(uuid, hcfake.RateLimited)
			return fmt.Sprintf("{ ping_url: %q }", hc.PingURL(uuid)), []string{uuid}
		}},
		{"slug: 429", http.StatusTooManyRequests, func(hc *hcfake.Server) (string, []string) {
			key := hcfake.NewPingKey()
			hc.SetState(hc.AddSlugCheck(key, "butler-sos"), hcfake.RateLimited)
			return fmt.Sprintf("{ base_url: %q, ping_key: %q, slug: butler-sos }", hc.BaseURL(), key), []string{key}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hc := hcfake.New(t, hcfake.Config{Flavor: hcfake.Hosted})
			settings, secrets := tt.settings(hc)
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  hc: { plugin: healthchecks, config: %s }
heartbeats:
  - { name: svc, frequency: every 1 hour, targets: [hc] }
`, settings))
			stdout, stderr, code := sendOnce(t, bins, nil, cfg)
			assertOneFailLine(t, stdout, stderr, code, "FAIL svc -> hc", "rate limit", "send beats less often")
			assertNoSecret(t, stdout+stderr, secrets...)
			reqs := hc.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1 (rate limited is not retried before the next beat)", len(reqs))
			}
			if reqs[0].Status != tt.status || reqs[0].Ping != nil {
				t.Errorf("the fake answered %d and stored %v, want %d and nothing", reqs[0].Status, reqs[0].Ping, tt.status)
			}
		})
	}
}

func TestTargetsUptimeKumaDaemonBeats(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name    string
		opts    kumafake.Options
		setting func(kuma *kumafake.Server, token string) string
	}{
		{"push_url with the UI's tail", kumafake.Options{}, func(kuma *kumafake.Server, token string) string {
			return fmt.Sprintf("{ push_url: %q }", kuma.PushURL(token))
		}},
		{"base_url and token", kumafake.Options{}, func(kuma *kumafake.Server, token string) string {
			return fmt.Sprintf("{ base_url: %q, token: %q }", kuma.BaseURL(), token)
		}},
		{"base_url with a path prefix, 1.23", kumafake.Options{Version: kumafake.V1, Prefix: "/kuma"}, func(kuma *kumafake.Server, token string) string {
			return fmt.Sprintf("{ base_url: %q, token: %q }", kuma.BaseURL(), token)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kuma := kumafake.New(t, tt.opts)
			token := kuma.AddMonitor()
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  kuma:
    plugin: uptimekuma
    config: %s
heartbeats:
  - name: every-second
    frequency: every 1 sec
    targets: [kuma]
`, tt.setting(kuma, token)))
			d := startDaemon(t, bins, "--config", cfg)
			waitFor(t, 20*time.Second, "three heartbeats", func() bool { return len(kuma.Beats(token)) >= 3 })
			stopCleanly(t, d)

			pushes := kuma.Pushes()
			if len(pushes) < 3 {
				t.Fatalf("%d pushes, want at least 3", len(pushes))
			}
			for i, p := range pushes {
				if p.Method != http.MethodGet {
					t.Errorf("push %d: method %s, want GET", i, p.Method)
				}
				if p.Token != token {
					t.Errorf("push %d: token %q, want the monitor's", i, p.Token)
				}
				if p.Status != "up" || p.Msg != "OK" {
					t.Errorf("push %d: status=%q msg=%q, want status=up msg=OK", i, p.Status, p.Msg)
				}
				if _, has := p.Query["ping"]; has {
					t.Errorf("push %d: query %q has ping, want it left out when no check ran", i, p.RawQuery)
				}
				if !strings.HasPrefix(p.UserAgent, "heartbeat/") {
					t.Errorf("push %d: User-Agent %q, want heartbeat/<version>", i, p.UserAgent)
				}
				if p.Code != http.StatusOK || p.Beat == nil {
					t.Errorf("push %d: answered %d %s, stored %v", i, p.Code, p.Body, p.Beat)
					continue
				}
				if p.Beat.Status != kumafake.Up || p.Beat.Msg != "OK" || p.Beat.Ping != nil {
					t.Errorf("push %d stored %s %q ping %v, want UP \"OK\" no ping", i, p.Beat.Status, p.Beat.Msg, p.Beat.Ping)
				}
			}
			assertNoSecret(t, d.stderr.String(), token)
		})
	}
}

func TestTargetsUptimeKumaSendNotFound(t *testing.T) {
	bins := buildBinaries(t)
	tests := []struct {
		name    string
		version kumafake.Version
		// token returns the token the config names.
		token func(kuma *kumafake.Server) string
	}{
		{"paused monitor", kumafake.V2, func(kuma *kumafake.Server) string {
			token := kuma.AddMonitor()
			kuma.Pause(token)
			return token
		}},
		{"unknown token", kumafake.V2, func(*kumafake.Server) string { return "Zq8Wn3Xr5Tb7Yc9Vd2Fe4Gh6Jk8Lm0Np" }},
		{"deleted monitor, 1.23", kumafake.V1, func(kuma *kumafake.Server) string {
			token := kuma.AddMonitor()
			kuma.RemoveMonitor(token)
			return token
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kuma := kumafake.New(t, kumafake.Options{Version: tt.version})
			token := tt.token(kuma)
			cfg := writeConfig(t, fmt.Sprintf(`
targets:
  kuma: { plugin: uptimekuma, config: { push_url: %q } }
heartbeats:
  - { name: svc, frequency: every 1 hour, targets: [kuma] }
`, kuma.PushURL(token)))
			stdout, stderr, code := sendOnce(t, bins, nil, cfg)
			assertOneFailLine(t, stdout, stderr, code, "FAIL svc -> kuma", "no active push monitor", "paused", "not_found")
			assertNoSecret(t, stdout+stderr, token)
			pushes := kuma.Pushes()
			if len(pushes) != 1 {
				t.Fatalf("%d pushes, want 1 (not found is not retried)", len(pushes))
			}
			if pushes[0].Beat != nil || !strings.Contains(pushes[0].Body, kumafake.MsgNotFound) {
				t.Errorf("the fake answered %d %s, want %q", pushes[0].Code, pushes[0].Body, kumafake.MsgNotFound)
			}
		})
	}
}

// outsideTargets returns the lines of a config file that are not its
// leading comment block (the file's description) and not in its top-level
// targets: section, with their line numbers; found reports whether the
// section exists.
func outsideTargets(content string) (lines []string, numbers []int, found bool) {
	inTargets, header := false, true
	for i, line := range strings.Split(content, "\n") {
		if header && strings.HasPrefix(line, "#") {
			continue
		}
		header = false
		topLevel := line != "" && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, "#")
		if topLevel {
			inTargets = strings.HasPrefix(line, "targets:")
			found = found || inTargets
		}
		if inTargets {
			continue
		}
		lines = append(lines, line)
		numbers = append(numbers, i+1)
	}
	return lines, numbers, found
}

func TestTargetsSwitchingToolsIsAConfigChange(t *testing.T) {
	bins := buildBinaries(t)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	hcExample, kumaExample := read("healthchecks.yaml"), read("uptimekuma.yaml")

	t.Run("the examples differ only in the target block", func(t *testing.T) {
		a, an, okA := outsideTargets(hcExample)
		b, bn, okB := outsideTargets(kumaExample)
		if !okA || !okB {
			t.Fatalf("targets: section found in healthchecks.yaml: %v, in uptimekuma.yaml: %v", okA, okB)
		}
		for i := 0; i < max(len(a), len(b)); i++ {
			switch {
			case i >= len(a):
				t.Errorf("uptimekuma.yaml:%d: %q has no counterpart in healthchecks.yaml", bn[i], b[i])
			case i >= len(b):
				t.Errorf("healthchecks.yaml:%d: %q has no counterpart in uptimekuma.yaml", an[i], a[i])
			case a[i] != b[i]:
				t.Errorf("outside targets: healthchecks.yaml:%d %q != uptimekuma.yaml:%d %q", an[i], a[i], bn[i], b[i])
			}
		}
		if !strings.Contains(strings.Join(a, "\n"), "heartbeats:") {
			t.Errorf("no heartbeats: section outside targets:\n%s", strings.Join(a, "\n"))
		}
	})

	t.Run("each sends one beat to its tool", func(t *testing.T) {
		hc := hcfake.New(t, hcfake.Config{Flavor: hcfake.Hosted})
		uuid := hc.AddCheck(hcfake.NewUUID())
		kuma := kumafake.New(t, kumafake.Options{})
		token := kuma.AddMonitor()

		// examples/healthchecks.yaml hard-codes https://hc-ping.com/, which no
		// environment variable can point elsewhere: replace that URL only.
		const hosted = "https://hc-ping.com/"
		if n := strings.Count(hcExample, hosted+"${HC_CHECK_UUID}"); n != 1 {
			t.Fatalf("examples/healthchecks.yaml names %s${HC_CHECK_UUID} %d times, want once", hosted, n)
		}
		hcCfg := writeConfig(t, strings.Replace(hcExample, hosted, hc.BaseURL(), 1))
		kumaCfg := filepath.Join(repoRoot(t), "examples", "uptimekuma.yaml")

		tests := []struct {
			name, config string
			env          []string
			beats        func() int
			secret       string
		}{
			{"healthchecks", hcCfg, []string{"HC_CHECK_UUID=" + uuid}, func() int { return len(hc.Pings(uuid)) }, uuid},
			{"uptimekuma", kumaCfg, []string{"KUMA_URL=" + kuma.URL, "KUMA_TOKEN=" + token}, func() int { return len(kuma.Beats(token)) }, token},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				stdout, stderr, code := sendOnce(t, bins, tt.env, tt.config)
				if code != exitOK {
					t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
				}
				if !strings.HasPrefix(stdout, "ok   butler-sos -> monitor: ") || strings.Count(stdout, "\n") != 1 {
					t.Errorf("stdout is not one ok line:\n%s", stdout)
				}
				assertNoSecret(t, stdout+stderr, tt.secret)
			})
		}
		pings := hc.Pings("")
		if len(pings) != 1 || pings[0].Check != uuid || pings[0].Kind != hcfake.KindSuccess {
			t.Errorf("Healthchecks stored %+v, want one success ping of the check", pings)
		}
		if n := len(hc.Requests()); n != 1 {
			t.Errorf("Healthchecks got %d requests, want 1", n)
		}
		pushes := kuma.Pushes()
		if len(pushes) != 1 || pushes[0].Beat == nil || pushes[0].Beat.Status != kumafake.Up {
			t.Errorf("Uptime Kuma got %+v, want one push stored as UP", pushes)
		}
	})
}

// A monitoring tool that fails never stops the heartbeats of another.
func TestTargetsFailingToolDoesNotStopOthers(t *testing.T) {
	bins := buildBinaries(t)
	hc := hcfake.New(t, hcfake.Config{})
	uuid := hc.AddCheck(hcfake.NewUUID())
	hc.SetOutage(http.StatusInternalServerError)
	kuma := kumafake.New(t, kumafake.Options{})
	token := kuma.AddMonitor()
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  hc: { plugin: healthchecks, config: { ping_url: %q } }
  kuma: { plugin: uptimekuma, config: { push_url: %q } }
heartbeats:
  - { name: to-hc, frequency: every 1 sec, targets: [hc] }
  - { name: to-kuma, frequency: every 1 sec, targets: [kuma] }
`, hc.PingURL(uuid), kuma.PushURL(token)))
	d := startDaemon(t, bins, "--config", cfg)
	waitFor(t, 20*time.Second, "three beats at the healthy tool", func() bool { return len(kuma.Beats(token)) >= 3 })
	// Let the failing target's beats and retries run on for a while.
	waitFor(t, 10*time.Second, "two more beats at the healthy tool", func() bool { return len(kuma.Beats(token)) >= 5 })
	select {
	case <-d.done:
		t.Fatalf("the daemon exited (code %d)", d.cmd.ProcessState.ExitCode())
	default:
	}
	stopCleanly(t, d)

	for i, b := range kuma.Beats(token) {
		if b.Status != kumafake.Up {
			t.Errorf("Uptime Kuma beat %d is %s, want UP", i, b.Status)
		}
	}
	reqs := hc.Requests()
	if len(reqs) < 3 {
		t.Errorf("Healthchecks got %d requests, want the failing target tried on every beat", len(reqs))
	}
	for i, r := range reqs {
		if r.Status != http.StatusInternalServerError || r.Ping != nil {
			t.Errorf("Healthchecks request %d answered %d (stored %v), want 500 and nothing", i, r.Status, r.Ping)
		}
	}
	log := d.stderr.String()
	if !strings.Contains(log, "500") {
		t.Errorf("the log does not mention the failing tool's 500:\n%s", log)
	}
	assertNoSecret(t, log, uuid, token)
}
