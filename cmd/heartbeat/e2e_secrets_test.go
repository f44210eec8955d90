//go:build unix

package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/healthchecks/hcfake"
	"github.com/seed-e9b80cf6/heartbeat/plugins/uptimekuma/kumafake"
)

// Known secret values go through every command and failure path; none may
// appear in any output, at any log level.
func TestSecretsNeverPrinted(t *testing.T) {
	bins := buildBinaries(t)
	const (
		hcUUID    = "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
		goneUUID  = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
		pingKey   = "pk-secret-k3y-0123456789"
		kumaToken = "KumaS3cretT0ken"
		pausedTok = "PausedS3cretTok"
		urlToken  = "url-path-secret-abcdef123456"
		header    = "Bearer header-secret-value-987654"
	)
	secrets := []string{hcUUID, goneUUID, pingKey, kumaToken, pausedTok, urlToken, header, "header-secret-value"}

	hc := hcfake.New(t, hcfake.Config{})
	hc.AddCheck(hcUUID)
	hc.AddProject(pingKey)
	hc.AddSlugCheck(pingKey, "backup")
	kuma := kumafake.New(t, kumafake.Options{})
	kuma.AddMonitorWithToken(kumaToken)
	kuma.AddMonitorWithToken(pausedTok)
	kuma.Pause(pausedTok)
	down := newRecorder(t, http.StatusInternalServerError)
	closed := freeAddr(t)
	hang, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hang.Close() })

	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  hc:       { plugin: healthchecks, config: { ping_url: "%[1]s" } }
  hc-gone:  { plugin: healthchecks, config: { ping_url: "%[2]s" } }
  hc-slug:  { plugin: healthchecks, config: { base_url: "%[3]s", ping_key: "%[4]s", slug: backup } }
  kuma:     { plugin: uptimekuma, config: { push_url: "%[5]s" } }
  kuma-off: { plugin: uptimekuma, config: { push_url: "%[6]s" } }
  web-500:  { plugin: http, config: { url: "%[7]s/%[8]s", headers: { Authorization: "%[9]s" } }, retries: 0 }
  web-down: { plugin: http, config: { url: "http://%[10]s/%[8]s" }, retries: 0 }
  web-hang: { plugin: http, config: { url: "http://%[11]s/%[8]s", timeout: 1s }, timeout: 2s, retries: 0 }
heartbeats:
  - { name: all, frequency: every 1 sec, targets: [hc, hc-gone, hc-slug, kuma, kuma-off, web-500, web-down, web-hang] }
`, hc.PingURL(hcUUID), hc.PingURL(goneUUID), hc.BaseURL(), pingKey, kuma.PushURL(kumaToken), kuma.PushURL(pausedTok),
		down.srv.URL, urlToken, header, closed, hang.Addr().String()))
	badCfg := writeConfig(t, strings.Replace(readFile(t, cfg), "slug: backup", "slug: backup, method: PATCH", 1))

	check := func(t *testing.T, what, out string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s shows the secret %q:\n%s", what, s, out)
			}
		}
	}
	for _, args := range [][]string{
		{"validate", "--config", cfg},
		{"validate", "--config", badCfg},
		{"send", "--config", cfg},
		{"send", "--config", cfg, "--log-level", "trace"},
		{"send", "--config", cfg, "--log-format", "json", "--log-level", "debug"},
		{"plugins", "--sha256"},
		{"version", "--plugins"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			stdout, stderr, _ := runCLI(t, bins, nil, append(args, "--plugin-dir", bins.pluginDir)...)
			if stdout+stderr == "" {
				t.Error("no output at all")
			}
			check(t, "output", stdout+stderr)
		})
	}
	t.Run("run at trace level", func(t *testing.T) {
		d := startDaemon(t, bins, "--config", cfg, "--log-level", "trace")
		waitFor(t, 20*time.Second, "failures to be logged", func() bool {
			return strings.Count(d.stderr.String(), "beat not delivered") >= 8
		})
		d.stop(t, syscall.SIGTERM)
		check(t, "the daemon's log", d.stderr.String())
	})
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
