package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sentry/sentryfake"
)

const runID = "0b6f4e52-3c1a-4d8e-9f27-5a9c1e7d3b40"

func TestSignals(t *testing.T) {
	tests := []struct {
		name     string
		beat     sdk.Beat
		status   sentryfake.Status
		duration *float64
	}{
		{"start", sdk.Beat{Signal: sdk.SignalStart, RunID: runID}, sentryfake.InProgress, nil},
		{"start ignores latency and exit code", sdk.Beat{Signal: sdk.SignalStart, RunID: runID, ExitCode: intp(2), CheckLatency: time.Second}, sentryfake.InProgress, nil},
		{"success", sdk.Beat{Signal: sdk.SignalSuccess}, sentryfake.OK, nil},
		{"success with duration", sdk.Beat{Signal: sdk.SignalSuccess, CheckLatency: 1500 * time.Millisecond}, sentryfake.OK, ptr(1.5)},
		{"fail", sdk.Beat{Signal: sdk.SignalFail}, sentryfake.Error, nil},
		{"fail with exit code, message, log and duration", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(3), Message: "exit status 3", Log: []byte("out\n"), CheckLatency: 2345678 * time.Microsecond}, sentryfake.Error, ptr(2.346)},
		{"success with exit code 0", sdk.Beat{Signal: sdk.SignalSuccess, ExitCode: intp(0)}, sentryfake.OK, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sentryfake.New(t, sentryfake.Options{})
			srv.AddMonitor("nightly")
			p := withFake(t, srv, "nightly", nil)
			res, err := p.beat(tt.beat)
			if err != nil {
				t.Fatal(err)
			}
			if res.Detail != "202 Accepted" {
				t.Errorf("detail %q, want 202 Accepted", res.Detail)
			}
			r := lastCheckIn(t, srv)
			if r.Method != http.MethodPost || r.ContentType != "application/json" || !r.CheckIn.JSON {
				t.Errorf("sent %s %s, want POST with a JSON body", r.Method, r.ContentType)
			}
			if r.Path != "/api/"+srv.ProjectID()+"/cron/nightly/"+srv.PublicKey()+"/" {
				t.Errorf("path %s", r.Path)
			}
			if r.Dropped != "" {
				t.Errorf("dropped: %s", r.Dropped)
			}
			if r.CheckIn.Status != tt.status || r.CheckIn.RawStatus != string(tt.status) {
				t.Errorf("status %q, want %q", r.CheckIn.RawStatus, tt.status)
			}
			if (tt.duration == nil) != (r.CheckIn.Duration == nil) || tt.duration != nil && *tt.duration != *r.CheckIn.Duration {
				t.Errorf("duration %v, want %v", deref(r.CheckIn.Duration), deref(tt.duration))
			}
			if r.CheckIn.ID == sentryfake.NilID || len(r.CheckIn.CheckInID) != 32 {
				t.Errorf("check_in_id %q, want 32 hex digits, not the nil UUID", r.CheckIn.CheckInID)
			}
			if r.CheckIn.Environment != nil {
				t.Errorf("environment %q sent without the setting", *r.CheckIn.Environment)
			}
			if r.CheckIn.MonitorConfig != nil {
				t.Error("monitor_config sent without schedule")
			}
			// The check-in has no field for text: nothing of the message
			// or log travels.
			if bytes.Contains(r.Body, []byte("exit status")) || bytes.Contains(r.Body, []byte("out\\n")) {
				t.Errorf("body carries the message or log: %s", r.Body)
			}
			if !strings.HasPrefix(r.UserAgent, "heartbeat/") {
				t.Errorf("User-Agent %q", r.UserAgent)
			}
		})
	}
}

// The core never sends log (Info does not list it); a plugin asked anyway
// refuses instead of turning it into a check-in.
func TestLogNotSupported(t *testing.T) {
	if (target{}).Info().Supports(sdk.SignalLog) {
		t.Fatal("Info lists log, which Sentry cannot show")
	}
	srv := sentryfake.New(t, sentryfake.Options{})
	p := withFake(t, srv, "nightly", nil)
	_, err := p.beat(sdk.Beat{Signal: sdk.SignalLog, Log: []byte("x")})
	if sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(fmt.Sprint(err), "log signal") {
		t.Errorf("got %s %v, want a permanent error", sdk.KindOf(err), err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestRunIDPairsStartAndFinish(t *testing.T) {
	tests := []struct {
		name   string
		runID  string
		finish sdk.Signal
		status sentryfake.Status
		wantID string // "" when derived
	}{
		{"UUID run id, success", runID, sdk.SignalSuccess, sentryfake.OK, "0b6f4e523c1a4d8e9f275a9c1e7d3b40"},
		{"upper-case UUID, fail", strings.ToUpper(runID), sdk.SignalFail, sentryfake.Error, "0b6f4e523c1a4d8e9f275a9c1e7d3b40"},
		{"other run id", "run-42", sdk.SignalFail, sentryfake.Error, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sentryfake.New(t, sentryfake.Options{})
			srv.AddMonitor("nightly")
			// Start and finish through two plugin processes: the pairing
			// must not depend on memory.
			start := withFake(t, srv, "nightly", nil)
			finish := withFake(t, srv, "nightly", nil)
			if _, err := start.beat(sdk.Beat{Signal: sdk.SignalStart, RunID: tt.runID}); err != nil {
				t.Fatal(err)
			}
			if _, err := finish.beat(sdk.Beat{Signal: tt.finish, RunID: tt.runID, CheckLatency: 3 * time.Second}); err != nil {
				t.Fatal(err)
			}
			cis := srv.CheckIns("nightly")
			if len(cis) != 1 {
				t.Fatalf("%d check-ins stored, want 1 updated by the finish: %+v", len(cis), cis)
			}
			ci := cis[0]
			if len(ci.Statuses) != 2 || ci.Statuses[0] != sentryfake.InProgress || ci.Status != tt.status {
				t.Errorf("statuses %v, want in_progress then %s", ci.Statuses, tt.status)
			}
			if ci.Duration == nil || *ci.Duration != 3 {
				t.Errorf("duration %v, want 3", deref(ci.Duration))
			}
			if tt.wantID != "" && ci.ID != tt.wantID {
				t.Errorf("check_in_id %s, want %s", ci.ID, tt.wantID)
			}
		})
	}
	t.Run("two runs overlap", func(t *testing.T) {
		srv := sentryfake.New(t, sentryfake.Options{})
		srv.AddMonitor("nightly")
		p := withFake(t, srv, "nightly", nil)
		for _, b := range []sdk.Beat{
			{Signal: sdk.SignalStart, RunID: "a"}, {Signal: sdk.SignalStart, RunID: "b"},
			{Signal: sdk.SignalFail, RunID: "a"}, {Signal: sdk.SignalSuccess, RunID: "b"},
		} {
			if _, err := p.beat(b); err != nil {
				t.Fatal(err)
			}
		}
		cis := srv.CheckIns("nightly")
		if len(cis) != 2 || cis[0].Status != sentryfake.Error || cis[1].Status != sentryfake.OK || cis[0].ID == cis[1].ID {
			t.Errorf("check-ins %+v, want run a error and run b ok", cis)
		}
	})
}

// Beats without a run id each make their own check-in, never the nil UUID
// (which would close another run's check-in); a retry keeps its id.
func TestCheckInIDWithoutRunID(t *testing.T) {
	srv := sentryfake.New(t, sentryfake.Options{})
	srv.AddMonitor("nightly")
	p := withFake(t, srv, "nightly", nil)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := p.beat(sdk.Beat{Signal: sdk.SignalStart, RunID: runID}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, b := range []sdk.Beat{
		{Signal: sdk.SignalSuccess, Sequence: 1, ScheduledAt: at},
		{Signal: sdk.SignalSuccess, Sequence: 1, ScheduledAt: at, Attempt: 2},
		{Signal: sdk.SignalSuccess, Sequence: 2, ScheduledAt: at.Add(time.Hour)},
	} {
		if _, err := p.beat(b); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, lastCheckIn(t, srv).CheckIn.ID)
	}
	if ids[0] != ids[1] || ids[0] == ids[2] || ids[0] == sentryfake.NilID {
		t.Errorf("ids %v: want a retry to keep its id and another beat to get its own", ids)
	}
	cis := srv.CheckIns("nightly")
	if len(cis) != 3 || cis[0].Status != sentryfake.InProgress {
		t.Errorf("check-ins %+v: the run in progress must stay in progress", cis)
	}
	// Another process (another host) gives the same beat another id.
	other := withFake(t, srv, "nightly", nil)
	if _, err := other.beat(sdk.Beat{Signal: sdk.SignalSuccess, Sequence: 1, ScheduledAt: at}); err != nil {
		t.Fatal(err)
	}
	if id := lastCheckIn(t, srv).CheckIn.ID; id == ids[0] {
		t.Error("two processes gave the same beat the same check-in id")
	}
}

func TestEnvironment(t *testing.T) {
	srv := sentryfake.New(t, sentryfake.Options{})
	srv.AddMonitor("nightly")
	p := withFake(t, srv, "nightly", conf{"environment": "staging"})
	if _, err := p.beat(sdk.Beat{Signal: sdk.SignalSuccess}); err != nil {
		t.Fatal(err)
	}
	cis := srv.CheckIns("nightly")
	if len(cis) != 1 || cis[0].Environment != "staging" {
		t.Errorf("check-ins %+v, want one in staging", cis)
	}
}

func TestUpsert(t *testing.T) {
	tests := []struct {
		name     string
		settings conf
		want     sentryfake.MonitorConfig
	}{
		{"crontab", conf{"schedule": "0 * * * *"}, sentryfake.MonitorConfig{Schedule: sentryfake.Schedule{Type: "crontab", Crontab: "0 * * * *"}}},
		{"crontab with extra spaces, names, margin, runtime and timezone",
			conf{"schedule": " 30  2 * * mon-fri ", "checkin_margin": "5m", "max_runtime": "1h", "timezone": "Europe/Stockholm"},
			sentryfake.MonitorConfig{Schedule: sentryfake.Schedule{Type: "crontab", Crontab: "30 2 * * mon-fri"}, CheckinMargin: u64(5), MaxRuntime: u64(60), Timezone: "Europe/Stockholm"}},
		{"interval", conf{"schedule": "every 10 minutes"}, sentryfake.MonitorConfig{Schedule: sentryfake.Schedule{Type: "interval", Value: 10, Unit: "minute"}}},
		{"interval without a number", conf{"schedule": "Every Hour"}, sentryfake.MonitorConfig{Schedule: sentryfake.Schedule{Type: "interval", Value: 1, Unit: "hour"}}},
		{"weeks", conf{"schedule": "every 2 weeks", "checkin_margin": 60}, sentryfake.MonitorConfig{Schedule: sentryfake.Schedule{Type: "interval", Value: 2, Unit: "week"}, CheckinMargin: u64(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, legacy := range []bool{false, true} {
				srv := sentryfake.New(t, sentryfake.Options{LegacyRelay: legacy})
				// No AddMonitor: the upsert creates it.
				p := withFake(t, srv, "nightly", tt.settings)
				for _, s := range []sdk.Signal{sdk.SignalStart, sdk.SignalSuccess} {
					if _, err := p.beat(sdk.Beat{Signal: s, RunID: runID}); err != nil {
						t.Fatal(err)
					}
					if r := lastCheckIn(t, srv); r.Dropped != "" || r.CheckIn.MonitorConfig == nil {
						t.Fatalf("legacy relay %v: %s check-in dropped (%s) or without monitor_config", legacy, s, r.Dropped)
					}
				}
				m, ok := srv.Monitor("nightly")
				if !ok || m.Config == nil || m.Upserts != 2 {
					t.Fatalf("monitor %+v, want one upserted by both check-ins", m)
				}
				if got := *m.Config; !sameConfig(got, tt.want) {
					t.Errorf("config %+v, want %+v", describe(got), describe(tt.want))
				}
				if cis := srv.CheckIns("nightly"); len(cis) != 1 || cis[0].Status != sentryfake.OK {
					t.Errorf("check-ins %+v", cis)
				}
			}
		})
	}
}

// Without schedule, a monitor Sentry does not know drops the check-in after
// the 202: the plugin cannot see it, and the doc says so.
func TestUnknownMonitorWithoutUpsert(t *testing.T) {
	srv := sentryfake.New(t, sentryfake.Options{})
	p := withFake(t, srv, "nightly", nil)
	if _, err := p.beat(sdk.Beat{Signal: sdk.SignalSuccess}); err != nil {
		t.Fatal(err)
	}
	if r := lastCheckIn(t, srv); r.Dropped != "unknown monitor" {
		t.Errorf("dropped %q", r.Dropped)
	}
}

// A self-hosted Sentry under a path prefix: the DSN's path before the
// project id is kept.
func TestPathPrefix(t *testing.T) {
	srv := sentryfake.New(t, sentryfake.Options{Prefix: "/sentry", ProjectID: 42})
	srv.AddMonitor("nightly")
	p := withFake(t, srv, "nightly", nil)
	if _, err := p.beat(sdk.Beat{Signal: sdk.SignalSuccess}); err != nil {
		t.Fatal(err)
	}
	if r := lastCheckIn(t, srv); r.Path != "/sentry/api/42/cron/nightly/"+srv.PublicKey()+"/" || r.Dropped != "" {
		t.Errorf("path %s, dropped %q", r.Path, r.Dropped)
	}
}

func TestResponses(t *testing.T) {
	const success = sdktest.Success
	tests := []struct {
		name    string
		status  int
		body    string
		header  map[string]string
		kind    sdk.Kind
		wording []string
	}{
		{"202 accepted", 202, "", nil, success, []string{"202 Accepted"}},
		{"400 bad request", 400, `{"detail":"invalid check_in_id"}`, nil, sdk.KindPermanent, []string{"rejected the check-in", `400 Bad Request: "invalid check_in_id"`}},
		{"422", 422, `{"detail":"missing field status"}`, nil, sdk.KindPermanent, []string{"rejected the check-in"}},
		{"401", 401, "", nil, sdk.KindPermanent, []string{"refused the DSN", "Client Keys"}},
		{"403 wrong key", 403, `{"detail":"event submission rejected with_reason: ProjectId"}`, nil, sdk.KindPermanent, []string{"refused the DSN", "ProjectId"}},
		{"404", 404, "<html>nope</html>", nil, sdk.KindPermanent, []string{"no Sentry check-in endpoint", "404 Not Found"}},
		{"405", 405, "", nil, sdk.KindPermanent, []string{"no Sentry check-in endpoint"}},
		{"413", 413, "", nil, sdk.KindPermanent, []string{"413"}},
		{"429 from a proxy", 429, "slow down", map[string]string{"Retry-After": "30"}, sdk.KindRateLimited, []string{"slow down", "wait 30s", "send beats less often"}},
		{"429 with a date", 429, "", map[string]string{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, sdk.KindRateLimited, []string{"429"}},
		{"200 from something else", 200, "<html>login</html>", nil, sdk.KindPermanent, []string{"not Sentry's 202 Accepted"}},
		{"204", 204, "", nil, sdk.KindPermanent, []string{"not Sentry's 202"}},
		{"408", 408, "", nil, sdk.KindTemporary, []string{"408"}},
		{"500", 500, "", nil, sdk.KindTemporary, []string{"could not take the check-in now", "500 Internal Server Error"}},
		{"502", 502, "bad gateway", nil, sdk.KindTemporary, []string{`502 Bad Gateway: "bad gateway"`}},
		{"503", 503, "", nil, sdk.KindTemporary, []string{"503"}},
		{"418", 418, "", nil, sdk.KindPermanent, []string{"418"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			key := sentryfake.NewPublicKey()
			p := dial(t)
			p.mustConfigure(conf{"dsn": strings.Replace(srv.URL, "http://", "http://"+key+"@", 1) + "/1", "monitor_slug": "nightly"})
			res, err := p.beat(sdk.Beat{Signal: sdk.SignalSuccess})
			if tt.kind == success {
				if err != nil || res.Detail != tt.wording[0] {
					t.Fatalf("got %q, %v", res.Detail, err)
				}
				return
			}
			sdktest.CheckOutcome(t, res, err, tt.kind, key, tt.wording...)
		})
	}
}

// The fake answers per the spec: a wrong key is refused, an outage is
// temporary.
func TestFakeAnswers(t *testing.T) {
	srv := sentryfake.New(t, sentryfake.Options{})
	srv.AddMonitor("nightly")
	t.Run("wrong key", func(t *testing.T) {
		p := dial(t)
		dsn := strings.Replace(srv.DSN(), srv.PublicKey(), sentryfake.NewPublicKey(), 1)
		p.mustConfigure(conf{"dsn": dsn, "monitor_slug": "nightly"})
		_, err := p.beat(sdk.Beat{Signal: sdk.SignalSuccess})
		if sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(fmt.Sprint(err), "refused the DSN") {
			t.Errorf("got %s %v", sdk.KindOf(err), err)
		}
	})
	t.Run("wrong project", func(t *testing.T) {
		p := dial(t)
		p.mustConfigure(conf{"dsn": strings.TrimSuffix(srv.DSN(), "/1") + "/2", "monitor_slug": "nightly"})
		_, err := p.beat(sdk.Beat{Signal: sdk.SignalSuccess})
		if sdk.KindOf(err) != sdk.KindPermanent {
			t.Errorf("got %s %v", sdk.KindOf(err), err)
		}
	})
	t.Run("outage", func(t *testing.T) {
		srv.SetOutage(503)
		defer srv.SetOutage(0)
		p := withFake(t, srv, "nightly", nil)
		_, err := p.beat(sdk.Beat{Signal: sdk.SignalSuccess})
		if sdk.KindOf(err) != sdk.KindTemporary {
			t.Errorf("got %s %v", sdk.KindOf(err), err)
		}
	})
}

// Sentry takes 6 check-ins a minute per monitor and environment and drops
// the rest after a 202; the plugin warns once in its log.
func TestRateLimitWarning(t *testing.T) {
	srv := sentryfake.New(t, sentryfake.Options{})
	srv.AddMonitor("nightly")
	var logs bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
	inst, err := target{}.Configure(t.Context(), sdk.ConfigureRequest{Instance: "s", Settings: mustJSON(t, conf{"dsn": srv.DSN(), "monitor_slug": "nightly"}), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := inst.Beat(t.Context(), sdk.Beat{Heartbeat: "hb", Signal: sdk.SignalSuccess, Sequence: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.CheckIns("nightly")); n != sentryfake.CheckInsPerMinute {
		t.Errorf("the fake stored %d check-ins, want %d", n, sentryfake.CheckInsPerMinute)
	}
	if n := strings.Count(logs.String(), "more than 6 check-ins a minute"); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, logs.String())
	}
}

func TestTLS(t *testing.T) {
	srv := sentryfake.New(t, sentryfake.Options{TLS: true})
	srv.AddMonitor("nightly")
	sdktest.RunTLS(t, sdktest.TLS{
		CACertPEM: srv.CACertPEM(),
		Detail:    "202 Accepted",
		Beat: func(t *testing.T, extra map[string]any) (sdk.Result, error) {
			return withFake(t, srv, "nightly", extra).beat(sdk.Beat{Signal: sdk.SignalSuccess})
		},
	})
}

func TestConcurrentBeats(t *testing.T) {
	srv := sentryfake.New(t, sentryfake.Options{})
	srv.AddMonitor("nightly")
	p := withFake(t, srv, "nightly", nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.beat(sdk.Beat{Signal: sdk.SignalStart, RunID: fmt.Sprintf("run-%d", i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(srv.Requests()); n != 8 {
		t.Errorf("%d requests, want 8", n)
	}
}

func ptr(f float64) *float64 { return &f }
func u64(v uint64) *uint64   { return &v }

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func sameConfig(a, b sentryfake.MonitorConfig) bool {
	eq := func(x, y *uint64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.Schedule == b.Schedule && a.Timezone == b.Timezone && eq(a.CheckinMargin, b.CheckinMargin) && eq(a.MaxRuntime, b.MaxRuntime)
}

func describe(c sentryfake.MonitorConfig) string {
	b, _ := json.Marshal(struct {
		S    sentryfake.Schedule
		M, R any
		TZ   string
	}{c.Schedule, derefU(c.CheckinMargin), derefU(c.MaxRuntime), c.Timezone})
	return string(b)
}

func derefU(v *uint64) any {
	if v == nil {
		return nil
	}
	return *v
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// A check-in has no text field: however long the beat's message and log,
// the body stays a few hundred bytes of valid JSON.
func TestBodyBounded(t *testing.T) {
	srv := sentryfake.New(t, sentryfake.Options{})
	srv.AddMonitor("nightly")
	p := withFake(t, srv, "nightly", conf{"schedule": "every 1 hour", "environment": strings.Repeat("é", 64)})
	if _, err := p.beat(sdk.Beat{Signal: sdk.SignalFail, RunID: runID, Message: strings.Repeat("m", 100_000), Log: bytes.Repeat([]byte("log line\n"), 200_000), ExitCode: intp(1)}); err != nil {
		t.Fatal(err)
	}
	r := lastCheckIn(t, srv)
	if len(r.Body) > 1024 || !json.Valid(r.Body) {
		t.Errorf("body of %d bytes, valid JSON %v", len(r.Body), json.Valid(r.Body))
	}
	if r.Dropped != "" {
		t.Errorf("dropped: %s", r.Dropped)
	}
}

// Sentry's message is quoted cut to 200 characters, on a character
// boundary, on one line.
func TestServerMessageQuotedBounded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"detail":"` + strings.Repeat("é", 1000) + `\nline two"}`))
	}))
	t.Cleanup(srv.Close)
	p := dial(t)
	p.mustConfigure(conf{"dsn": dsnFor(srv.URL), "monitor_slug": "x"})
	_, err := p.beat(sdk.Beat{Signal: sdk.SignalSuccess})
	if err == nil {
		t.Fatal("succeeded")
	}
	msg := err.Error()
	if n := strings.Count(msg, "é"); n != maxQuoted-1 || !strings.Contains(msg, "…") || strings.Contains(msg, "\n") || !utf8.ValidString(msg) {
		t.Errorf("quoted %d characters of the detail (want %d and …), one line, valid UTF-8: %q", n, maxQuoted-1, msg)
	}
}
