package status

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// fullSnapshot has every optional field set, so every key is encoded.
func fullSnapshot() Snapshot {
	at := time.Date(2026, 12, 4, 21, 0, 0, 0, time.UTC)
	code := 1
	return Snapshot{
		Version: SchemaVersion, GeneratedAt: at, StartedAt: at, Ready: true,
		Heartbeats: []Heartbeat{{
			Name: "svc", Frequency: "every 1 minute", Timezone: "Europe/Stockholm", Check: "GET http://127.0.0.1/…", NextBeat: &at, State: StateDegraded,
			Targets: []TargetState{{Name: "hc", Plugin: "healthchecks", Description: "https://hc-ping.com/…3c2d", LastSignal: "success", LastResult: ResultFailed,
				LastKind: "temporary", LastDetail: "503", LastAt: &at, LastSuccessAt: &at, LastDeliveredAt: &at}},
			Beats: []Beat{{Sequence: 1, ScheduledAt: at, StartedAt: at, FinishedAt: at, Outcome: OutcomeDegraded,
				Check:      &CheckResult{OK: true, Message: "200 OK", ExitCode: &code, DurationMS: 1.5},
				Deliveries: []Delivery{{Target: "hc", Signal: "success", Result: ResultFailed, Kind: "temporary", Attempts: 3, DurationMS: 12.25, Detail: "503"}}}},
		}},
		Plugins: []Plugin{{Name: "healthchecks", State: PluginRestarting, Restarts: 2, NextRestart: &at, Detail: "its process exited"}},
	}
}

func keys(t *testing.T, v any) []string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v is not an object", v)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestSchemaFieldNames pins the JSON names of /api/v1/status: a renamed or
// removed field fails here. Adding a field means adding it here and to
// docs/operations.md.
func TestSchemaFieldNames(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler(fullSnapshot).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/status", nil))
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, rec.Body)
	}
	hb := doc["heartbeats"].([]any)[0].(map[string]any)
	beat := hb["beats"].([]any)[0].(map[string]any)
	want := map[string]struct {
		v    any
		keys string
	}{
		"snapshot":  {doc, "generated_at heartbeats plugins ready started_at version"},
		"heartbeat": {hb, "beats check frequency name next_beat state targets timezone"},
		"target":    {hb["targets"].([]any)[0], "description last_at last_delivered_at last_detail last_kind last_result last_signal last_success_at name plugin"},
		"beat":      {beat, "check deliveries finished_at outcome scheduled_at sequence started_at"},
		"check":     {beat["check"], "duration_ms exit_code message ok"},
		"delivery":  {beat["deliveries"].([]any)[0], "attempts detail duration_ms kind result signal target"},
		"plugin":    {doc["plugins"].([]any)[0], "detail name next_restart restarts state"},
	}
	for name, w := range want {
		if got := strings.Join(keys(t, w.v), " "); got != w.keys {
			t.Errorf("%s keys:\n got %s\nwant %s", name, got, w.keys)
		}
	}
	if doc["version"] != float64(1) {
		t.Errorf("version %v, want 1", doc["version"])
	}
	if hb["next_beat"] != "2026-12-04T21:00:00Z" {
		t.Errorf("times are not RFC 3339: %v", hb["next_beat"])
	}
}

func TestSchemaEmptyListsAndOptionalFields(t *testing.T) {
	r := newTestRecorder(0)
	r.Configure([]HeartbeatSpec{{Name: "svc", Frequency: "every 1 minute"}})
	rec := httptest.NewRecorder()
	Handler(r.Snapshot).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/status", nil))
	var doc map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if _, ok := doc["plugins"].([]any); !ok {
		t.Errorf("plugins is %v, want []", doc["plugins"])
	}
	hb := doc["heartbeats"].([]any)[0].(map[string]any)
	if got := strings.Join(keys(t, hb), " "); got != "beats frequency name state targets" {
		t.Errorf("a pending heartbeat without check, timezone or next beat has keys %s", got)
	}
	for _, k := range []string{"beats", "targets"} {
		if _, ok := hb[k].([]any); !ok {
			t.Errorf("%s is %v, want []", k, hb[k])
		}
	}
}

func TestHandlerHeaders(t *testing.T) {
	tests := []struct {
		method string
		code   int
		body   bool
	}{
		{http.MethodGet, 200, true},
		{http.MethodHead, 200, false},
		{http.MethodPost, 405, true},
		{http.MethodDelete, 405, true},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Handler(fullSnapshot).ServeHTTP(rec, httptest.NewRequest(tt.method, "/api/v1/status", nil))
			if rec.Code != tt.code || (rec.Body.Len() > 0) != tt.body {
				t.Fatalf("%s: %d with %d bytes; want %d, body %v", tt.method, rec.Code, rec.Body.Len(), tt.code, tt.body)
			}
			if tt.code != 200 {
				if rec.Header().Get("Allow") != "GET, HEAD" {
					t.Errorf("Allow: %q", rec.Header().Get("Allow"))
				}
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
		})
	}
}
