//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/status"
)

// statusGet fetches url with the bearer token (none when empty).
func statusGet(t *testing.T, url, token string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

func findHeartbeat(snap status.Snapshot, name string) *status.Heartbeat {
	for i := range snap.Heartbeats {
		if snap.Heartbeats[i].Name == name {
			return &snap.Heartbeats[i]
		}
	}
	return nil
}

// A running daemon with one healthy heartbeat (log target) and one
// failing (an http target whose server answers 500) shows both in
// /api/v1/status, with next beats ahead; the address is protected by a
// bearer token; no secret of the failing target's URL or header shows on
// any page.
func TestStatusAPI(t *testing.T) {
	bins := buildBinaries(t)
	const (
		urlSecret    = "url-secret-7c1d9e04b2a8"
		headerSecret = "header-secret-5f38a61e09"
		token        = "status-token-2b6e"
	)
	hits := make(chan struct{}, 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case hits <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("database unavailable"))
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cfgPath := filepath.Join(dir, "heartbeat.yaml")
	cfg := fmt.Sprintf(`
listen: %s
listen_auth:
  bearer_token_file: token
targets:
  console: { plugin: log }
  alarm:
    plugin: http
    config:
      url: "%s/ping/%s"
      headers: { Authorization: "Bearer %s" }
    retries: 0
    timeout: 5s
heartbeats:
  - { name: healthy, frequency: every 1 sec, targets: [console] }
  - { name: failing, frequency: every 1 sec, targets: [alarm] }
  - { name: hourly, frequency: every 1 hour, targets: [console] }
`, addr, srv.URL, urlSecret, headerSecret)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, bins, "--config", cfgPath)
	base := "http://" + addr

	// Wait for two finished beats of each heartbeat.
	var snap status.Snapshot
	var raw string
	waitFor(t, 30*time.Second, "two beats of each heartbeat in /api/v1/status", func() bool {
		code, _, body := statusGet(t, base+"/api/v1/status", token)
		if code != http.StatusOK {
			return false
		}
		raw = body
		snap = status.Snapshot{}
		if err := json.Unmarshal([]byte(body), &snap); err != nil {
			t.Fatalf("/api/v1/status is not the schema: %v\n%s", err, body)
		}
		h, f := findHeartbeat(snap, "healthy"), findHeartbeat(snap, "failing")
		return h != nil && f != nil && len(h.Beats) >= 2 && len(f.Beats) >= 2
	})
	if snap.Version != status.SchemaVersion || !snap.Ready || snap.StartedAt.After(snap.GeneratedAt) {
		t.Errorf("version %d, ready %v, started %v, generated %v", snap.Version, snap.Ready, snap.StartedAt, snap.GeneratedAt)
	}
	if len(snap.Heartbeats) != 3 || snap.Heartbeats[0].Name != "healthy" || snap.Heartbeats[1].Name != "failing" || snap.Heartbeats[2].Name != "hourly" {
		t.Fatalf("heartbeats not in config order: %s", raw)
	}
	h, f, hourly := snap.Heartbeats[0], snap.Heartbeats[1], snap.Heartbeats[2]
	// A beat every second may be due this very instant; an hourly one's
	// next beat is ahead of any snapshot.
	if hourly.NextBeat == nil || !hourly.NextBeat.After(snap.GeneratedAt) || hourly.Frequency != "every 1 hour" {
		t.Errorf("hourly: next beat %v, generated at %v: want the next beat in the future", hourly.NextBeat, snap.GeneratedAt)
	}
	for _, hb := range []status.Heartbeat{h, f} {
		if hb.NextBeat == nil || !hb.NextBeat.After(hb.Beats[len(hb.Beats)-1].ScheduledAt) {
			t.Errorf("%s: next beat %v; last beat due %v: want the next beat after the last", hb.Name, hb.NextBeat, hb.Beats[len(hb.Beats)-1].ScheduledAt)
		}
		if hb.Frequency != "every 1 sec" {
			t.Errorf("%s: frequency %q", hb.Name, hb.Frequency)
		}
		for i := 1; i < len(hb.Beats); i++ {
			if hb.Beats[i].Sequence <= hb.Beats[i-1].Sequence {
				t.Errorf("%s: beats not oldest first: %d after %d", hb.Name, hb.Beats[i].Sequence, hb.Beats[i-1].Sequence)
			}
		}
	}
	if h.State != status.StateOK || h.Beats[0].Outcome != status.OutcomeOK || h.Targets[0].LastResult != status.ResultDelivered || h.Targets[0].LastSuccessAt == nil || h.Targets[0].Plugin != "log" {
		t.Errorf("healthy heartbeat: %+v", h)
	}
	ft := f.Targets[0]
	if f.State != status.StateFailing || f.Beats[0].Outcome != status.OutcomeFailed || ft.LastResult != status.ResultFailed || ft.LastSuccessAt != nil || ft.Name != "alarm" || ft.Plugin != "http" {
		t.Errorf("failing heartbeat: %+v", f)
	}
	if !strings.Contains(ft.LastDetail, "500") || ft.LastKind == "" {
		t.Errorf("failing target's last detail %q, kind %q: want the server's 500", ft.LastDetail, ft.LastKind)
	}
	if dl := f.Beats[0].Deliveries; len(dl) != 1 || dl[0].Target != "alarm" || dl[0].Signal != "success" || dl[0].Attempts != 1 || dl[0].Result != status.ResultFailed {
		t.Errorf("failing beat's deliveries: %+v", dl)
	}
	plugins := map[string]string{}
	for _, p := range snap.Plugins {
		plugins[p.Name] = p.State
	}
	if plugins["log"] != status.PluginRunning || plugins["http"] != status.PluginRunning {
		t.Errorf("plugins: %+v", snap.Plugins)
	}

	// Protection: /status and /api need the token; /metrics and /healthz
	// are open unless asked.
	for _, tc := range []struct {
		path, token string
		code        int
	}{
		{"/api/v1/status", "", http.StatusUnauthorized},
		{"/api/v1/status", "wrong", http.StatusUnauthorized},
		{"/status", "", http.StatusUnauthorized},
		{"/status", token, http.StatusOK},
		{"/metrics", "", http.StatusOK},
		{"/healthz", "", http.StatusOK},
	} {
		code, hdr, body := statusGet(t, base+tc.path, tc.token)
		if code != tc.code {
			t.Errorf("GET %s with token %q: %d, want %d", tc.path, tc.token, code, tc.code)
		}
		if code == http.StatusUnauthorized && (hdr.Get("WWW-Authenticate") != `Bearer realm="heartbeat"` || strings.Contains(body, "healthy")) {
			t.Errorf("GET %s: 401 with WWW-Authenticate %q and body %q", tc.path, hdr.Get("WWW-Authenticate"), body)
		}
	}
	if _, hdr, _ := statusGet(t, base+"/api/v1/status", token); hdr.Get("Cache-Control") != "no-store" || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Errorf("/api/v1/status headers: %v", hdr)
	}

	// Metrics: next beat ahead, last success of the healthy target only.
	_, _, metricsBody := statusGet(t, base+"/metrics", "")
	if v, ok := metricValue(metricsBody, `heartbeat_next_beat_timestamp_seconds{heartbeat="failing"}`); !ok || v < float64(f.Beats[len(f.Beats)-1].ScheduledAt.Unix()) {
		t.Errorf("next beat metric %v (found %v)", v, ok)
	}
	if _, ok := metricValue(metricsBody, `heartbeat_last_success_timestamp_seconds{heartbeat="healthy",target="console"}`); !ok {
		t.Errorf("no last success of the healthy target:\n%s", grepLines(metricsBody, "heartbeat_last"))
	}
	if _, ok := metricValue(metricsBody, `heartbeat_last_success_timestamp_seconds{heartbeat="failing",target="alarm"}`); ok {
		t.Error("the failing target has a last success")
	}

	// No secret anywhere: the JSON, the page, the metrics.
	pages := map[string]string{"/api/v1/status": raw, "/metrics": metricsBody}
	_, _, pages["/status"] = statusGet(t, base+"/status", token)
	for path, body := range pages {
		for _, secret := range []string{urlSecret, headerSecret, token, urlSecret[len(urlSecret)-8:], headerSecret[len(headerSecret)-8:]} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows the secret %q", path, secret)
			}
		}
	}
	if !strings.Contains(pages["/status"], "failing") || !strings.Contains(pages["/status"], "healthy") {
		t.Errorf("/status does not show both heartbeats")
	}
	if len(hits) == 0 {
		t.Error("the failing target's server saw no beat")
	}
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// validate and run warn about a listen address other machines can reach
// while /status is open.
func TestStatusListenWarning(t *testing.T) {
	bins := buildBinaries(t)
	cfg := writeConfig(t, fmt.Sprintf(`
listen: "0.0.0.0:%s"
targets:
  console: { plugin: log }
heartbeats:
  - { name: x, frequency: every 1 hour, targets: [console] }
`, strings.Split(freeAddr(t), ":")[1]))
	_, stderr, code := runCLI(t, bins, nil, "validate", "--plugin-dir", bins.pluginDir, "--config", cfg)
	if code != 0 || !strings.Contains(stderr, "warning: "+cfg+":2:9: listen: 0.0.0.0:") || !strings.Contains(stderr, "listen_auth") {
		t.Errorf("validate: exit %d, stderr:\n%s", code, stderr)
	}
	d := startDaemon(t, bins, "--config", cfg)
	waitFor(t, 30*time.Second, "heartbeat to start", func() bool { return strings.Contains(d.stderr.String(), "heartbeat started") })
	if logs := d.stderr.String(); !strings.Contains(logs, "[WARN]") || !strings.Contains(logs, "can be reached from other machines") {
		t.Errorf("run logs no warning:\n%s", logs)
	}
	if code := d.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d", code)
	}
}
