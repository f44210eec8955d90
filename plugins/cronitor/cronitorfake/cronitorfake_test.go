package cronitorfake

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSpecRows sends the requests of the spec's tables to the fake and
// checks each answer and what was stored.
func TestSpecRows(t *testing.T) {
	key := NewKey()
	noScope := NewKey()
	tests := []struct {
		name   string
		method string
		path   string // after the base URL
		status int
		stored bool
		check  func(t *testing.T, e Event)
	}{
		{name: "run", method: "GET", path: "/p/" + key + "/job?state=run&series=abc", status: 200, stored: true, check: func(t *testing.T, e Event) {
			if e.State != StateRun || e.Series != "abc" || e.Monitor != "job" || e.Legacy {
				t.Errorf("%+v", e)
			}
		}},
		{name: "complete with duration and exit code", method: "GET", path: "/p/" + key + "/job?state=complete&metric=duration:1.5&status_code=0", status: 200, stored: true, check: func(t *testing.T, e Event) {
			if d, ok := e.Duration(); e.State != StateComplete || !ok || d != 1.5 || e.StatusCode == nil || *e.StatusCode != 0 {
				t.Errorf("%+v", e)
			}
		}},
		{name: "metric name=value", method: "GET", path: "/p/" + key + "/job?metric=count=3", status: 200, stored: true, check: func(t *testing.T, e Event) {
			if e.Metrics["count"] != 3 {
				t.Errorf("%+v", e.Metrics)
			}
		}},
		{name: "NaN, Inf and bad custom names are dropped", method: "GET", path: "/p/" + key + "/job?metric=duration:NaN&metric=latency:Inf&metric=Bad_Name:1&metric=" + strings.Repeat("x", 64) + ":1&metric=rows_read:7", status: 200, stored: true, check: func(t *testing.T, e Event) {
			if len(e.Metrics) != 1 || e.Metrics["rows_read"] != 7 {
				t.Errorf("%+v", e.Metrics)
			}
		}},
		{name: "fail with message, host and env", method: "GET", path: "/p/" + key + "/job?state=fail&status_code=3&message=disk%20full&host=web-1&env=production", status: 200, stored: true, check: func(t *testing.T, e Event) {
			if e.State != StateFail || *e.StatusCode != 3 || e.Message != "disk full" || e.Host != "web-1" || e.Env != "production" {
				t.Errorf("%+v", e)
			}
		}},
		{name: "plain event", method: "GET", path: "/p/" + key + "/hb", status: 200, stored: true, check: func(t *testing.T, e Event) {
			if e.State != "" {
				t.Errorf("%+v", e)
			}
		}},
		{name: "long message kept to 2000 characters", method: "GET", path: "/p/" + key + "/job?message=" + strings.Repeat("é", 2500), status: 200, stored: true, check: func(t *testing.T, e Event) {
			if e.MessageChars != 2500 || len([]rune(e.Message)) != MaxMessageChars {
				t.Errorf("%d chars sent, %d kept", e.MessageChars, len([]rune(e.Message)))
			}
		}},
		{name: "legacy /ping/ form", method: "GET", path: "/ping/" + key + "/job?state=ok", status: 200, stored: true, check: func(t *testing.T, e Event) {
			if !e.Legacy || e.State != StateOK {
				t.Errorf("%+v", e)
			}
		}},
		{name: "stamp", method: "GET", path: "/p/" + key + "/job?stamp=1700000000.5", status: 200, stored: true, check: func(t *testing.T, e Event) {
			if e.Stamp == nil || *e.Stamp != 1700000000.5 {
				t.Errorf("%+v", e)
			}
		}},
		{name: "POST (third party)", method: "POST", path: "/p/" + key + "/job?state=run", status: 200, stored: true},
		{name: "HEAD (third party)", method: "HEAD", path: "/p/" + key + "/job?state=run", status: 200, stored: true},
		{name: "wrong key: 200, nothing stored", method: "GET", path: "/p/" + NewKey() + "/job?state=run", status: 200},
		{name: "key without the telemetry scope: 200, nothing stored", method: "GET", path: "/p/" + noScope + "/job?state=run", status: 200},
		{name: "other paths", method: "GET", path: "/p/" + key, status: 404},
		{name: "form without key is not served", method: "GET", path: "/d3x0c1/complete", status: 404},
		{name: "PUT", method: "PUT", path: "/p/" + key + "/job", status: 405},
	}
	srv := New(t, Config{})
	srv.AddKey(key, true)
	srv.AddKey(noScope, false)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.BaseURL()+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status == 200 && len(body) != 0 {
				t.Errorf("body %q, want none", body)
			}
			r, _ := srv.LastRequest()
			if (r.Event != nil) != tt.stored {
				t.Fatalf("stored %+v, want stored %v", r.Event, tt.stored)
			}
			if tt.check != nil {
				tt.check(t, *r.Event)
			}
		})
	}
}

func TestCreatesUnknownMonitors(t *testing.T) {
	srv := New(t, Config{PathPrefix: "/proxy/"})
	key := srv.AddKey(NewKey(), true)
	srv.AddMonitor("known")
	for _, m := range []string{"known", "new", "new"} {
		resp, err := http.Get(srv.PingURL(key, m))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	evs := srv.Events("")
	if len(evs) != 3 || evs[0].Created || !evs[1].Created || evs[2].Created {
		t.Errorf("events %+v", evs)
	}
	if len(srv.Monitors()) != 2 {
		t.Errorf("monitors %v", srv.Monitors())
	}
}

func TestRunsPairBySeries(t *testing.T) {
	srv := New(t, Config{})
	key := srv.AddKey(NewKey(), true)
	for _, q := range []string{"state=run&series=a", "state=run&series=b", "state=fail&series=b", "state=complete", "state=complete&series=a", "state=run&series=c"} {
		resp, err := http.Get(srv.PingURL(key, "job") + "?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	runs := srv.Runs("job")
	if len(runs) != 3 || runs[0].Series != "a" || runs[0].End.State != StateComplete || runs[1].End.State != StateFail || runs[2].End != nil {
		t.Errorf("runs %+v", runs)
	}
}

func TestOutageRateLimitDelay(t *testing.T) {
	srv := New(t, Config{})
	key := srv.AddKey(NewKey(), true)
	srv.SetRateLimited("7")
	resp, err := http.Get(srv.PingURL(key, "m"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("got %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	srv.SetOutage(0)
	srv.SetDelay(300 * time.Millisecond)
	client := &http.Client{Timeout: 50 * time.Millisecond}
	if _, err := client.Get(srv.PingURL(key, "m")); err == nil {
		t.Error("answered despite the delay")
	}
	if n := len(srv.Events("m")); n != 0 {
		t.Errorf("%d events stored", n)
	}
}
