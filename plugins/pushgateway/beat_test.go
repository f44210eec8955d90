package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/pushgateway/pgfake"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

const (
	mSuccess    = "heartbeat_last_success_timestamp_seconds"
	mCompletion = "heartbeat_last_completion_timestamp_seconds"
	mStart      = "heartbeat_last_start_timestamp_seconds"
	mDuration   = "heartbeat_duration_seconds"
	mExitCode   = "heartbeat_last_exit_code"
)

// fixedInstance configures an instance directly, bypassing the contract,
// so that its clock can be set.
func fixedInstance(t *testing.T, s settingsMap, now time.Time) *instance {
	t.Helper()
	inst, err := target{}.Configure(context.Background(), sdk.ConfigureRequest{Instance: instanceName, Settings: mustJSON(t, s)})
	if err != nil {
		t.Fatal(err)
	}
	in := inst.(*instance)
	in.now = func() time.Time { return now }
	return in
}

// What each signal stores, and what it leaves alone.
func TestSignalsSetTheirGauges(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 250e6, time.UTC)
	ts := float64(t0.UnixMilli()) / 1000
	tests := []struct {
		name string
		beat sdk.Beat
		want map[string]float64 // metric -> value; every other pushed metric is absent
	}{
		{"plain success", sdk.Beat{Signal: sdk.SignalSuccess},
			map[string]float64{mSuccess: ts, mCompletion: ts, mExitCode: 0}},
		{"success after a check", sdk.Beat{Signal: sdk.SignalSuccess, CheckLatency: 1500 * time.Millisecond, RunID: "r1"},
			map[string]float64{mSuccess: ts, mCompletion: ts, mExitCode: 0, mDuration: 1.5}},
		{"success with exit code 0", sdk.Beat{Signal: sdk.SignalSuccess, ExitCode: intp(0), CheckLatency: time.Second},
			map[string]float64{mSuccess: ts, mCompletion: ts, mExitCode: 0, mDuration: 1}},
		{"start", sdk.Beat{Signal: sdk.SignalStart, RunID: "r1", Message: "checking"},
			map[string]float64{mStart: ts}},
		{"fail with exit code 3", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(3), CheckLatency: 250 * time.Millisecond, Message: "exit status 3", Log: []byte("out\n")},
			map[string]float64{mCompletion: ts, mExitCode: 3, mDuration: 0.25}},
		{"fail without exit code", sdk.Beat{Signal: sdk.SignalFail, Message: "503"},
			map[string]float64{mCompletion: ts, mExitCode: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := pgfake.New(t, pgfake.Config{})
			in := fixedInstance(t, settingsMap{"url": srv.URL()}, t0)
			tt.beat.Heartbeat = "svc"
			res, err := in.Beat(context.Background(), tt.beat)
			if err != nil || res.Detail != "200 OK" {
				t.Fatalf("got %q, %v", res.Detail, err)
			}
			g, ok := srv.Group(group("svc"))
			if !ok {
				t.Fatalf("no group %v; groups %+v", group("svc"), srv.Groups())
			}
			for _, name := range []string{mSuccess, mCompletion, mStart, mDuration, mExitCode} {
				f, stored := g.Metrics[name]
				want, wanted := tt.want[name]
				switch {
				case wanted && !stored:
					t.Errorf("%s not pushed", name)
				case !wanted && stored:
					t.Errorf("%s pushed: %+v", name, f)
				case wanted:
					if len(f.Samples) != 1 || math.Abs(f.Samples[0].Value-want) > 1e-9 {
						t.Errorf("%s = %+v, want %v", name, f.Samples, want)
					}
					if f.Type != "gauge" || f.Help == "" {
						t.Errorf("%s: type %q help %q, want a gauge with help", name, f.Type, f.Help)
					}
				}
			}
			r := srv.Requests()[0]
			if r.Method != http.MethodPost || r.ContentType != "text/plain; version=0.0.4; charset=utf-8" {
				t.Errorf("sent %s with Content-Type %q", r.Method, r.ContentType)
			}
			if !strings.HasPrefix(r.UserAgent, "heartbeat/") {
				t.Errorf("User-Agent %q", r.UserAgent)
			}
			if strings.Contains(string(r.Body), "\r") || !strings.HasSuffix(string(r.Body), "\n") {
				t.Errorf("body lines must end with LF only: %q", r.Body)
			}
			// The message and the output are text: nothing of them is sent.
			if strings.Contains(string(r.Body), "exit status") || strings.Contains(string(r.Body), "checking") || strings.Contains(r.Path, "r1") {
				t.Errorf("text of the beat was sent: %s %q", r.Path, r.Body)
			}
		})
	}
}

// A failure never erases the last success: POST replaces only the metrics
// it names. A start leaves the last run's results alone.
func TestFailKeepsLastSuccess(t *testing.T) {
	srv := pgfake.New(t, pgfake.Config{})
	t0 := time.Unix(1_800_000_000, 0)
	in := fixedInstance(t, settingsMap{"url": srv.URL()}, t0)
	steps := []struct {
		at   time.Duration
		beat sdk.Beat
	}{
		{0, sdk.Beat{Signal: sdk.SignalStart, RunID: "a"}},
		{2 * time.Second, sdk.Beat{Signal: sdk.SignalSuccess, RunID: "a", ExitCode: intp(0), CheckLatency: 2 * time.Second}},
		{60 * time.Second, sdk.Beat{Signal: sdk.SignalStart, RunID: "b"}},
		{65 * time.Second, sdk.Beat{Signal: sdk.SignalFail, RunID: "b", ExitCode: intp(3), CheckLatency: 5 * time.Second}},
	}
	for _, s := range steps {
		in.now = func() time.Time { return t0.Add(s.at) }
		s.beat.Heartbeat = "svc"
		if _, err := in.Beat(context.Background(), s.beat); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]float64{
		mSuccess:    1_800_000_002,
		mCompletion: 1_800_000_065,
		mStart:      1_800_000_060,
		mDuration:   5,
		mExitCode:   3,
	}
	for name, v := range want {
		if got, ok := srv.Value(group("svc"), name); !ok || got != v {
			t.Errorf("%s = %v (stored %v), want %v", name, got, ok, v)
		}
	}
	for _, r := range srv.Requests() {
		if r.Method != http.MethodPost {
			t.Errorf("sent %s: only POST keeps the other metrics of the group", r.Method)
		}
	}
}

// The grouping key reaches the gateway exactly, whatever the values hold.
func TestGroupingKey(t *testing.T) {
	tests := []struct {
		name      string
		settings  settingsMap
		heartbeat string
		want      map[string]string
		path      string // the escaped path sent, after the base
	}{
		{"defaults", settingsMap{}, "butler-sos",
			map[string]string{"job": "heartbeat", "heartbeat": "butler-sos"},
			"/metrics/job/heartbeat/heartbeat/butler-sos"},
		{"labels sorted after job", settingsMap{"job": "db_backup", "labels": map[string]any{"zone": "eu", "env": "prod"}}, "nightly",
			map[string]string{"job": "db_backup", "heartbeat": "nightly", "env": "prod", "zone": "eu"},
			"/metrics/job/db_backup/env/prod/heartbeat/nightly/zone/eu"},
		{"slash in a value: base64", settingsMap{"labels": map[string]any{"path": "/var/backups"}}, "b",
			map[string]string{"job": "heartbeat", "heartbeat": "b", "path": "/var/backups"},
			"/metrics/job/heartbeat/heartbeat/b/path@base64/L3Zhci9iYWNrdXBz"},
		{"slash in the job: base64", settingsMap{"job": "a/b"}, "b",
			map[string]string{"job": "a/b", "heartbeat": "b"},
			"/metrics/job@base64/YS9i/heartbeat/b"},
		{"empty value", settingsMap{"labels": map[string]any{"env": ""}}, "b",
			map[string]string{"job": "heartbeat", "heartbeat": "b", "env": ""},
			"/metrics/job/heartbeat/env@base64/=/heartbeat/b"},
		{"dot and dot-dot", settingsMap{"labels": map[string]any{"a": ".", "b": ".."}}, "c",
			map[string]string{"job": "heartbeat", "heartbeat": "c", "a": ".", "b": ".."},
			"/metrics/job/heartbeat/a@base64/Lg/b@base64/Li4/heartbeat/c"},
		{"spaces, percent, plus, unicode", settingsMap{"labels": map[string]any{"d": "a b%2F+é?#"}}, "x",
			map[string]string{"job": "heartbeat", "heartbeat": "x", "d": "a b%2F+é?#"},
			"/metrics/job/heartbeat/d/a%20b%252F+%C3%A9%3F%23/heartbeat/x"},
		{"numbers and booleans as text", settingsMap{"labels": map[string]any{"shard": 1, "canary": true}}, "x",
			map[string]string{"job": "heartbeat", "heartbeat": "x", "shard": "1", "canary": "true"},
			"/metrics/job/heartbeat/canary/true/heartbeat/x/shard/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := pgfake.New(t, pgfake.Config{RoutePrefix: "/pg"})
			c, _ := mustConfigure(t, merge(settingsMap{"url": srv.URL()}, tt.settings))
			if _, err := beat(t, c, sdk.Beat{Heartbeat: tt.heartbeat, Signal: sdk.SignalSuccess}); err != nil {
				t.Fatal(err)
			}
			if _, ok := srv.Group(tt.want); !ok {
				t.Errorf("no group %v; stored %+v", tt.want, srv.Groups())
			}
			if p := srv.Requests()[0].Path; p != "/pg"+tt.path {
				t.Errorf("path %s, want /pg%s", p, tt.path)
			}
			// The gateway gives every sample the grouping labels.
			g, _ := srv.Group(tt.want)
			for k, v := range tt.want {
				if got := g.Metrics[mSuccess].Samples[0].Labels[k]; got != v {
					t.Errorf("sample label %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// Heartbeats sharing a target push to groups of their own: one's failure
// never shows as the other's.
func TestSharedTargetKeepsHeartbeatsApart(t *testing.T) {
	srv := pgfake.New(t, pgfake.Config{})
	c, _ := mustConfigure(t, settingsMap{"url": srv.URL(), "metric_prefix": "hb"})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sig := sdk.SignalSuccess
			if i%2 == 1 {
				sig = sdk.SignalFail
			}
			if _, err := beat(t, c, sdk.Beat{Heartbeat: fmt.Sprintf("hb-%d", i), Signal: sig, ExitCode: intp(i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range 8 {
		code, ok := srv.Value(group(fmt.Sprintf("hb-%d", i)), "hb_last_exit_code")
		_, succeeded := srv.Value(group(fmt.Sprintf("hb-%d", i)), "hb_last_success_timestamp_seconds")
		if !ok || code != float64(i) || succeeded != (i%2 == 0) {
			t.Errorf("hb-%d: exit code %v (%v), last success stored %v", i, code, ok, succeeded)
		}
	}
}

func TestLogSignalRefused(t *testing.T) {
	srv := pgfake.New(t, pgfake.Config{})
	c, _ := mustConfigure(t, settingsMap{"url": srv.URL()})
	_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalLog, Log: []byte("x")})
	if err == nil || sdk.KindOf(err) != sdk.KindPermanent {
		t.Errorf("got %s %v, want a permanent error", sdk.KindOf(err), err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// Each answer of the gateway (or of a proxy in front of it) and the error
// kind it gives.
func TestAnswers(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		header  http.Header
		kind    sdk.Kind
		ok      bool
		wording string
	}{
		{"400 inconsistent", 400, "pushed metrics are invalid or inconsistent with existing metrics: collected metric x has type counter\n", nil, sdk.KindPermanent, false, "delete the offending group"},
		{"400 parse error", 400, "text format parsing error in line 1: invalid metric name\n", nil, sdk.KindPermanent, false, `"text format parsing error in line 1: invalid metric name"`},
		{"401 without credentials", 401, "Unauthorized\n", nil, sdk.KindPermanent, false, "set username and password"},
		{"403 from a proxy", 403, "Forbidden", nil, sdk.KindPermanent, false, "403 Forbidden"},
		{"404 wrong prefix", 404, "404 page not found\n", nil, sdk.KindPermanent, false, "--web.route-prefix"},
		{"405", 405, "Method Not Allowed\n", nil, sdk.KindPermanent, false, "no Pushgateway push route"},
		{"429 with Retry-After", 429, "slow down", http.Header{"Retry-After": {"120"}}, sdk.KindRateLimited, false, "retry after 120"},
		{"408", 408, "", nil, sdk.KindTemporary, false, "408 Request Timeout"},
		{"500", 500, "boom", nil, sdk.KindTemporary, false, `500 Internal Server Error "boom"`},
		{"502 page", 502, "<html><body>Bad Gateway</body></html>", nil, sdk.KindTemporary, false, "an HTML page"},
		{"503", 503, "", nil, sdk.KindTemporary, false, "could not take the push now"},
		{"200 with a page", 200, "<!doctype html><title>Login</title>", nil, sdk.KindPermanent, false, "not the Pushgateway's empty answer"},
		{"204", 204, "", nil, sdk.KindPermanent, false, "not a Pushgateway answer"},
		{"202 unchecked", 202, "", nil, 0, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := pgfake.New(t, pgfake.Config{})
			srv.SetAnswer(tt.status, tt.body, tt.header)
			c, _ := mustConfigure(t, settingsMap{"url": srv.URL()})
			res, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
			if tt.ok {
				if err != nil || !strings.HasPrefix(res.Detail, "202 Accepted") {
					t.Errorf("got %q, %v", res.Detail, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("succeeded with %q", res.Detail)
			}
			if sdk.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.wording) {
				t.Errorf("got %s %q, want %s with %q", sdk.KindOf(err), err, tt.kind, tt.wording)
			}
		})
	}
}

// The fake's own refusals, which the real gateway gives the same way.
func TestGatewayRefusals(t *testing.T) {
	t.Run("unchecked gateway answers 202", func(t *testing.T) {
		srv := pgfake.New(t, pgfake.Config{Unchecked: true})
		c, _ := mustConfigure(t, settingsMap{"url": srv.URL()})
		res, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		if err != nil || !strings.HasPrefix(res.Detail, "202") {
			t.Errorf("got %q, %v", res.Detail, err)
		}
		if _, ok := srv.Value(group("butler-sos"), mSuccess); !ok {
			t.Error("not stored")
		}
	})
	t.Run("type conflict with another group", func(t *testing.T) {
		srv := pgfake.New(t, pgfake.Config{})
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/metrics/job/other", strings.NewReader("# TYPE heartbeat_last_exit_code counter\nheartbeat_last_exit_code 1\n"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("setup push: %v %v", resp, err)
		}
		resp.Body.Close()
		c, _ := mustConfigure(t, settingsMap{"url": srv.URL()})
		_, err = beat(t, c, sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(2)})
		if err == nil || sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), "inconsistent") {
			t.Errorf("got %s %v", sdk.KindOf(err), err)
		}
		// The gateway records the failed push in the group.
		if v, ok := srv.Value(group("butler-sos"), pgfake.PushFailureTimeMetric); !ok || v == 0 {
			t.Errorf("push_failure_time_seconds = %v, %v", v, ok)
		}
	})
}

func TestRoutePrefix(t *testing.T) {
	srv := pgfake.New(t, pgfake.Config{RoutePrefix: "/monitoring/pushgateway"})
	c, _ := mustConfigure(t, settingsMap{"url": srv.URL() + "/"})
	if _, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess}); err != nil {
		t.Fatal(err)
	}
	// Without the prefix the gateway has no such route.
	base := strings.TrimSuffix(srv.URL(), "/monitoring/pushgateway")
	c, _ = mustConfigure(t, settingsMap{"url": base})
	_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
	if err == nil || sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), "path prefix") {
		t.Errorf("got %s %v", sdk.KindOf(err), err)
	}
}

func TestBasicAuth(t *testing.T) {
	const password = "correct-horse-battery-staple"
	srv := pgfake.New(t, pgfake.Config{Username: "hb", Password: password})
	tests := []struct {
		name     string
		settings settingsMap
		wording  string // "" when accepted
	}{
		{"right password", settingsMap{"username": "hb", "password": password}, ""},
		{"wrong password", settingsMap{"username": "hb", "password": "wrong-password-here"}, `refused the user name "hb" or its password`},
		{"none", settingsMap{}, "set username and password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, desc := mustConfigure(t, merge(settingsMap{"url": srv.URL()}, tt.settings))
			_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
			switch {
			case tt.wording == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wording != "" && (err == nil || sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), tt.wording)):
				t.Errorf("got %s %v, want a permanent error with %q", sdk.KindOf(err), err, tt.wording)
			}
			for _, shown := range []string{desc, fmt.Sprint(err)} {
				if strings.Contains(shown, "horse") || strings.Contains(shown, "wrong-password") {
					t.Errorf("shows the password: %s", shown)
				}
			}
		})
	}
}

func TestTLS(t *testing.T) {
	srv := pgfake.New(t, pgfake.Config{TLS: true})
	sdktest.RunTLS(t, sdktest.TLS{
		CACertPEM: srv.CACertPEM(),
		Detail:    "200 OK",
		Beat: func(t *testing.T, extra map[string]any) (sdk.Result, error) {
			c, _ := mustConfigure(t, merge(settingsMap{"url": srv.URL()}, extra))
			return beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		},
	})
}

// A hostile or broken server costs a bounded read and at most the timeout.
func TestHostileServer(t *testing.T) {
	sdktest.RunHostile(t, sdktest.Hostile{
		MaxError: 1000,
		Beat: func(t *testing.T, serverURL, timeout string) (sdk.Result, error) {
			c, _ := mustConfigure(t, settingsMap{"url": serverURL, "timeout": timeout})
			return beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		},
	}, []sdktest.HostileCase{
		{Name: "1 GB body with 200", Handler: sdktest.EndlessBody(http.StatusOK, nil), Timeout: "1s", Kind: sdk.KindPermanent, Wording: "not the Pushgateway's empty answer"},
		{Name: "1 GB body with 500", Handler: sdktest.EndlessBody(http.StatusInternalServerError, []byte(strings.Repeat("B\n", 32<<10))), Timeout: "1s", Kind: sdk.KindTemporary, Wording: "500"},
		{Name: "slow body", Handler: sdktest.TrickleBody(http.StatusOK), Timeout: "1s", Kind: sdk.KindTemporary, Wording: "reading the answer of"},
		{Name: "hang", Handler: sdktest.NoAnswer(), Timeout: "1s", Kind: sdk.KindTemporary, Wording: "no answer before the timeout"},
		{Name: "control characters in the answer", Handler: sdktest.Answer(http.StatusBadRequest, "bad\x1b[31m\nthing\x00"+strings.Repeat("z", 5000)), Timeout: "1s", Kind: sdk.KindPermanent, Wording: `"bad [31m thing `},
	})
}

func TestServerGone(t *testing.T) {
	srv := pgfake.Start(pgfake.Config{})
	url := srv.URL()
	srv.Close()
	c, _ := mustConfigure(t, settingsMap{"url": url})
	_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
	if err == nil || sdk.KindOf(err) != sdk.KindTemporary || !strings.Contains(err.Error(), "pushing the success gauges to the Pushgateway") {
		t.Errorf("got %s %v, want a temporary error", sdk.KindOf(err), err)
	}
}
