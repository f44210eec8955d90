//go:build unix

package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/healthchecks/hcfake"
	"github.com/seed-e9b80cf6/heartbeat/plugins/uptimekuma/kumafake"
)

// With a health check, each beat is a start ping, the check, then success
// or fail with the check's findings in the body and the same run id, so
// Healthchecks measures the duration and shows why the service is down.
func TestHealthCheckGatesBeats(t *testing.T) {
	bins := buildBinaries(t)
	var healthy atomic.Bool
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if healthy.Load() {
			_, _ = w.Write([]byte("status: ok"))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable"))
	}))
	t.Cleanup(service.Close)
	hc := hcfake.New(t, hcfake.Config{})
	uuid := hc.AddCheck(hcfake.NewUUID())
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  hc: { plugin: healthchecks, config: { ping_url: "%s" } }
heartbeats:
  - name: svc
    frequency: every 1 hour
    targets: [hc]
    check: { http: "%s/health", expect: "ok", timeout: 5s }
`, hc.PingURL(uuid), service.URL))

	tests := []struct {
		name       string
		healthy    bool
		wantKind   hcfake.Kind
		wantInBody string
	}{
		{"healthy service", true, hcfake.KindSuccess, "answered 200 OK"},
		{"failing service", false, hcfake.KindFail, "503 Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			healthy.Store(tt.healthy)
			before := len(hc.Pings(uuid))
			stdout, stderr, code := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", bins.pluginDir)
			if code != exitOK {
				t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			pings := hc.Pings(uuid)[before:]
			if len(pings) != 2 {
				t.Fatalf("got %d pings, want start + finish: %+v", len(pings), pings)
			}
			start, finish := pings[0], pings[1]
			if start.Kind != hcfake.KindStart || finish.Kind != tt.wantKind {
				t.Errorf("kinds %s, %s; want start, %s", start.Kind, finish.Kind, tt.wantKind)
			}
			if start.RID == "" || start.RID != finish.RID {
				t.Errorf("run ids %q and %q, want the same non-empty id", start.RID, finish.RID)
			}
			if !bytes.Contains(finish.Body, []byte(tt.wantInBody)) {
				t.Errorf("finish body %q lacks %q", finish.Body, tt.wantInBody)
			}
			if !tt.healthy && !bytes.Contains(finish.Body, []byte("database unreachable")) {
				t.Errorf("fail body %q lacks the service's answer", finish.Body)
			}
			if !strings.HasPrefix(finish.UserAgent, "heartbeat/") {
				t.Errorf("user agent %q", finish.UserAgent)
			}
		})
	}
}

// With Uptime Kuma, a health check turns into status=up or status=down
// with the check's message and its duration as ping; no start signal is
// sent, since Uptime Kuma has none.
func TestHealthCheckToUptimeKuma(t *testing.T) {
	bins := buildBinaries(t)
	var healthy atomic.Bool
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(service.Close)
	kuma := kumafake.New(t, kumafake.Options{})
	token := kuma.AddMonitor()
	cfg := writeConfig(t, fmt.Sprintf(`
targets:
  kuma: { plugin: uptimekuma, config: { push_url: "%s" } }
heartbeats:
  - name: svc
    frequency: every 1 hour
    targets: [kuma]
    check: { http: "%s/health" }
`, kuma.PushURL(token), service.URL))
	tests := []struct {
		name    string
		healthy bool
		status  string
		msg     string
	}{
		{"healthy", true, "up", "answered 200 OK"},
		{"unhealthy", false, "down", "answered 503 Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			healthy.Store(tt.healthy)
			before := len(kuma.Pushes())
			stdout, stderr, code := runCLI(t, bins, nil, "send", "--config", cfg, "--plugin-dir", bins.pluginDir)
			if code != exitOK {
				t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
			}
			pushes := kuma.Pushes()[before:]
			if len(pushes) != 1 {
				t.Fatalf("got %d pushes, want 1 (no start signal): %+v", len(pushes), pushes)
			}
			p := pushes[0]
			if p.Method != http.MethodGet || p.Status != tt.status || !strings.Contains(p.Msg, tt.msg) {
				t.Errorf("push %s status=%q msg=%q, want GET status=%q msg containing %q", p.Method, p.Status, p.Msg, tt.status, tt.msg)
			}
			if ms, err := strconv.ParseFloat(p.Ping, 64); err != nil || ms <= 0 || ms > 5000 {
				t.Errorf("ping = %q, want the check's duration in milliseconds", p.Ping)
			}
		})
	}
}
