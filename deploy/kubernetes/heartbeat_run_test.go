package kubernetes

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/deploy/internal/heartbeattest"
)

// Test values for the Secret's keys: what a user writes in place of the
// placeholders.
const (
	testUUID  = "5b1c7a4e-0d3f-4a5b-9c8d-7e6f5a4b3c2d"
	testToken = "0123456789abcdef0123456789abcdef"
)

// materialise writes, under dir, the secret files the container's config
// reads (values by Secret key; the Secret's own value for a key not given)
// and a copy of its config pointing at them, with each rewrite (old ->
// new) applied. It returns the copy's path.
func materialise(t *testing.T, m manifests, h heartbeatContainer, dir string, values, rewrite map[string]string) string {
	t.Helper()
	text := h.configText
	for setting, file := range fileSettings(t, text) {
		s, key, err := secretFileKey(m, h.containerOf, file)
		if err != nil {
			t.Fatalf("%s: %v", setting, err)
		}
		v, ok := values[key]
		if !ok {
			v = s.StringData[key]
		}
		local := filepath.Join(dir, "secrets", filepath.Base(file))
		if err := os.MkdirAll(filepath.Dir(local), 0o700); err != nil {
			t.Fatal(err)
		}
		// As the kubelet writes it: the value, here with the final newline
		// a file made by an editor has.
		if err := os.WriteFile(local, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		text = strings.ReplaceAll(text, file, local)
	}
	for from, to := range rewrite {
		if !strings.Contains(text, from) {
			t.Fatalf("the config of %s no longer holds %q: update the test", h.container.Name, from)
		}
		text = strings.ReplaceAll(text, from, to)
	}
	p := filepath.Join(dir, filepath.Base(h.configPath))
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// argvWith returns the container's heartbeat arguments with --config set
// to configPath and, when job is given, the command after -- replaced.
func argvWith(h heartbeatContainer, configPath string, job ...string) []string {
	argv := slices.Clone(h.argv)
	for i := range argv {
		if argv[i] == "--" {
			if job != nil {
				argv = append(argv[:i+1], job...)
			}
			break
		}
		if argv[i] == "--config" && i+1 < len(argv) {
			argv[i+1] = configPath
		}
	}
	return argv
}

func byCommand(t *testing.T, hcs []heartbeatContainer, sub string) heartbeatContainer {
	t.Helper()
	for _, h := range hcs {
		if h.subcommand == sub {
			return h
		}
	}
	t.Fatalf("no container runs heartbeat %s", sub)
	return heartbeatContainer{}
}

func listenOf(t *testing.T, h heartbeatContainer) string {
	t.Helper()
	for _, line := range strings.Split(h.configText, "\n") {
		if v, ok := strings.CutPrefix(line, "listen:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("the config has no listen line")
	return ""
}

// pings returns the signal (the path after the check's UUID) and run id
// of each ping the fake received.
func pings(hc *heartbeattest.Healthchecks) (signals, rids []string) {
	for _, r := range hc.Requests() {
		q, _ := url.ParseQuery(r.Query)
		signals = append(signals, strings.TrimPrefix(strings.TrimPrefix(r.Path, "/ping/"+hc.UUID), "/"))
		rids = append(rids, q.Get("rid"))
	}
	return signals, rids
}

// TestWithRealHeartbeat runs the real heartbeat and its Healthchecks plugin
// with the manifests' command lines and configs, the Secret's files
// written out as the kubelet would, against a local Healthchecks and
// Butler SOS.
func TestWithRealHeartbeat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs heartbeat; skipped with -short")
	}
	m := load(t)
	hcs := heartbeatContainers(t, m)
	sidecar, cron := byCommand(t, hcs, "run"), byCommand(t, hcs, "exec")
	bin := heartbeattest.Build(t, "healthchecks")

	t.Run("placeholders are refused", func(t *testing.T) {
		for _, h := range hcs {
			cfg := materialise(t, m, h, t.TempDir(), nil, nil)
			res := bin.Run(t, 2*time.Minute, "validate", "--config", cfg)
			if res.ExitCode != 2 || !strings.Contains(res.Stderr, "error") {
				t.Errorf("%s: validate with the Secret's placeholders: exit %d, want 2 with an error\n%s", h.container.Name, res.ExitCode, res.Stderr)
			}
		}
		// The ping URL's placeholder on its own, the token being good.
		cfg := materialise(t, m, sidecar, t.TempDir(), map[string]string{"status-token": testToken}, nil)
		res := bin.Run(t, 2*time.Minute, "validate", "--config", cfg)
		if res.ExitCode != 2 || !strings.Contains(res.Stderr, "ping_url") {
			t.Errorf("validate with the ping URL placeholder: exit %d, want 2 naming ping_url\n%s", res.ExitCode, res.Stderr)
		}
	})

	t.Run("sidecar beats when Butler SOS works", func(t *testing.T) {
		hc := heartbeattest.NewHealthchecks(t, testUUID)
		butler := heartbeattest.NewButlerSOS(t)
		addr := heartbeattest.FreeAddr(t)
		cfg := materialise(t, m, sidecar, t.TempDir(),
			map[string]string{"hc-ping-url": hc.PingURL(), "status-token": testToken},
			map[string]string{listenOf(t, sidecar): addr, "http://localhost:12398": butler.URL})
		if res := bin.Run(t, 2*time.Minute, "validate", "--config", cfg); res.ExitCode != 0 || strings.Contains(res.Stderr, "warning") {
			t.Fatalf("validate: exit %d\n%s", res.ExitCode, res.Stderr)
		}
		d := bin.Start(t, argvWith(sidecar, cfg)...)
		heartbeattest.WaitFor(t, time.Minute, "the start-up beat's start and success", func() bool { return len(hc.Requests()) >= 2 || d.Exited() })
		signals, rids := pings(hc)
		if len(signals) < 2 || signals[0] != "start" || signals[1] != "" || rids[0] == "" || rids[0] != rids[1] {
			t.Fatalf("pings %q with run ids %q, want start then success with one run id\n%s", signals, rids, d.Output())
		}

		// The probes' endpoint, open without the token; the status needs it.
		get := func(path, token string) int {
			req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				return 0
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		heartbeattest.WaitFor(t, time.Minute, "/healthz 200", func() bool { return get("/healthz", "") == http.StatusOK })
		if code := get("/api/v1/status", ""); code != http.StatusUnauthorized {
			t.Errorf("/api/v1/status without the token: %d, want 401", code)
		}
		if code := get("/api/v1/status", testToken); code != http.StatusOK {
			t.Errorf("/api/v1/status with the token: %d, want 200", code)
		}
		// docs/install.md's `kubectl exec ... heartbeat status --config`:
		// the address and the token come from the config.
		if res := bin.Run(t, time.Minute, "status", "--config", cfg, "--no-color"); res.ExitCode != 0 || !strings.Contains(res.Stdout, "butler-sos") {
			t.Errorf("heartbeat status --config: exit %d\n%s%s", res.ExitCode, res.Stdout, res.Stderr)
		}
		if err := d.Stop(30 * time.Second); err != nil {
			t.Errorf("%v\n%s", err, d.Output())
		}
		for _, secret := range []string{testUUID, testToken} {
			if strings.Contains(d.Output(), secret) {
				t.Errorf("heartbeat's log holds a secret (%.8s…)", secret)
			}
		}
	})

	t.Run("sidecar reports Butler SOS down", func(t *testing.T) {
		hc := heartbeattest.NewHealthchecks(t, testUUID)
		down := "http://" + heartbeattest.FreeAddr(t) // nothing listens there
		cfg := materialise(t, m, sidecar, t.TempDir(),
			map[string]string{"hc-ping-url": hc.PingURL(), "status-token": testToken},
			map[string]string{listenOf(t, sidecar): heartbeattest.FreeAddr(t), "http://localhost:12398": down})
		d := bin.Start(t, argvWith(sidecar, cfg)...)
		heartbeattest.WaitFor(t, time.Minute, "the start-up beat's start and fail", func() bool { return len(hc.Requests()) >= 2 || d.Exited() })
		signals, rids := pings(hc)
		if len(signals) < 2 || signals[0] != "start" || signals[1] != "fail" || rids[0] != rids[1] {
			t.Fatalf("pings %q with run ids %q, want start then fail with one run id\n%s", signals, rids, d.Output())
		}
		if body := hc.Requests()[1].Body; !strings.Contains(body, "health check") {
			t.Errorf("the fail ping's body %q does not say what failed", body)
		}
	})

	t.Run("cronjob reports the job", func(t *testing.T) {
		for _, code := range []string{"0", "3"} {
			t.Run("exit "+code, func(t *testing.T) {
				hc := heartbeattest.NewHealthchecks(t, testUUID)
				cfg := materialise(t, m, cron, t.TempDir(), map[string]string{"hc-backup-ping-url": hc.PingURL()}, nil)
				res := bin.Run(t, 2*time.Minute, argvWith(cron, cfg, "/bin/sh", "-c", "echo dumping the database; exit "+code)...)
				if want, _ := strconv.Atoi(code); res.ExitCode != want {
					t.Fatalf("exit %d, want the job's %s\n%s", res.ExitCode, code, res.Stderr)
				}
				// exec's default --on-nonzero-exit exit-code: Healthchecks'
				// /<code> for a failure; a success is the plain ping URL.
				finish := code
				if code == "0" {
					finish = ""
				}
				signals, rids := pings(hc)
				if !slices.Equal(signals, []string{"start", finish}) || rids[0] == "" || rids[0] != rids[1] {
					t.Fatalf("pings %q with run ids %q, want start then %q with one run id\n%s", signals, rids, finish, res.Stderr)
				}
				if body := hc.Requests()[1].Body; !strings.Contains(body, "dumping the database") {
					t.Errorf("the finish ping's body %q lacks the job's output", body)
				}
				if strings.Contains(res.Stderr+res.Stdout, testUUID) {
					t.Error("heartbeat's output holds the check's UUID")
				}
			})
		}
	})
}
