package metrics

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/core/dispatch"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

type fakeStatus struct {
	running bool
	plugins []PluginState
}

func (f fakeStatus) SchedulerRunning() bool { return f.running }
func (f fakeStatus) Plugins() []PluginState { return f.plugins }

func scrape(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

func TestHealthz(t *testing.T) {
	tests := []struct {
		name   string
		status fakeStatus
		code   int
		want   string
	}{
		{"all up", fakeStatus{true, []PluginState{{Name: "http", Running: true}}}, 200, `"status":"ok"`},
		{"plugin down", fakeStatus{true, []PluginState{{Name: "http", Running: true}, {Name: "log"}}}, 503, `plugin process not running: [log]`},
		{"scheduler stopped", fakeStatus{false, nil}, 503, "the scheduler is not running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := scrape(t, New().Handler(tt.status), "/healthz")
			if code != tt.code || !strings.Contains(body, tt.want) {
				t.Errorf("got %d %s, want %d containing %q", code, body, tt.code, tt.want)
			}
		})
	}
}

func TestOutcomesAndReloads(t *testing.T) {
	m := New()
	m.Outcome(dispatch.Outcome{Heartbeat: "svc", Target: "hc", Signal: sdk.SignalSuccess, Duration: 20 * time.Millisecond})
	m.Outcome(dispatch.Outcome{Heartbeat: "svc", Target: "hc", Signal: sdk.SignalSuccess, Duration: 20 * time.Millisecond})
	m.Outcome(dispatch.Outcome{Heartbeat: "svc", Target: "kuma", Signal: sdk.SignalSuccess, Err: sdk.NotFound(errors.New("gone"))})
	m.Outcome(dispatch.Outcome{Heartbeat: "svc", Target: "kuma", Signal: sdk.SignalStart, Skipped: true})
	m.Reload(nil)
	m.Reload(errors.New("bad"))
	_, body := scrape(t, m.Handler(fakeStatus{true, []PluginState{{Name: "http", Running: true, Restarts: 2}}}), "/metrics")
	for _, want := range []string{
		`heartbeat_beats_total{heartbeat="svc",reason="",result="delivered",signal="success",target="hc"} 2`,
		`heartbeat_beats_total{heartbeat="svc",reason="not_found",result="failed",signal="success",target="kuma"} 1`,
		`heartbeat_beats_total{heartbeat="svc",reason="",result="skipped",signal="start",target="kuma"} 1`,
		`heartbeat_delivery_duration_seconds_count{target="hc"} 2`,
		`heartbeat_config_reloads_total{result="success"} 1`,
		`heartbeat_config_reloads_total{result="failure"} 1`,
		`heartbeat_config_last_reload_successful 0`,
		`heartbeat_plugin_up{plugin="http"} 1`,
		`heartbeat_plugin_restarts_total{plugin="http"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
