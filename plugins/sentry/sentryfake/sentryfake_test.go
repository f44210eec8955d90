package sentryfake

import (
	"net/http"
	"strings"
	"testing"
)

// send makes one raw request to the fake and returns what it recorded.
func send(t *testing.T, s *Server, method, url, contentType, body string) Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	r, _ := s.LastRequest()
	if r.Status != resp.StatusCode {
		t.Fatalf("recorded %d, answered %d", r.Status, resp.StatusCode)
	}
	return r
}

func TestAnswers(t *testing.T) {
	s := New(t, Options{})
	s.AddMonitor("m")
	u := s.CheckInURL("m")
	tests := []struct {
		name, method, url, ctype, body string
		status                         int
		dropped                        string
	}{
		{"query form", "GET", u + "?status=ok", "", "", 202, ""},
		{"query form, POST without JSON type reads only the query", "POST", u + "?status=ok", "text/plain", "{", 202, ""},
		{"JSON form", "POST", u, "application/json", `{"status":"in_progress","check_in_id":"a460c25ff2554577b920fcfacae4e5eb"}`, 202, ""},
		{"JSON with charset", "POST", u, "application/json; charset=utf-8", `{"status":"ok"}`, 202, ""},
		{"PUT", "PUT", u + "?status=ok", "", "", 405, ""},
		{"no status in query", "GET", u, "", "", 400, ""},
		{"no status in JSON", "POST", u, "application/json", `{"check_in_id":"a460c25ff2554577b920fcfacae4e5eb"}`, 400, ""},
		{"bad check_in_id", "GET", u + "?status=ok&check_in_id=42", "", "", 400, ""},
		{"unparsable JSON", "POST", u, "application/json", `{"status":`, 400, ""},
		{"bad schedule shape", "POST", u, "application/json", `{"status":"ok","monitor_config":{"schedule":{"type":"interval","value":"x","unit":"hour"}}}`, 400, ""},
		{"wrong key", "GET", strings.Replace(u, s.key, NewPublicKey(), 1) + "?status=ok", "", "", 403, ""},
		{"wrong project", "GET", strings.Replace(u, "/api/1/", "/api/2/", 1) + "?status=ok", "", "", 403, ""},
		{"other path", "GET", s.URL() + "/api/1/store/", "", "", 404, ""},
		{"missed becomes unknown", "GET", u + "?status=missed", "", "", 202, `unknown status "missed"`},
		{"unknown monitor", "GET", s.CheckInURL("nope") + "?status=ok", "", "", 202, "unknown monitor"},
		{"long environment", "GET", u + "?status=ok&environment=" + strings.Repeat("e", 65), "", "", 202, "environment longer than 64 characters"},
		{"invalid schedule after the 202", "POST", u, "application/json", `{"status":"ok","monitor_config":{"schedule":{"type":"crontab","value":"* *"}}}`, 202, "invalid schedule: a crontab has 5 fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, s, tt.method, tt.url, tt.ctype, tt.body)
			if r.Status != tt.status || r.Dropped != tt.dropped {
				t.Errorf("answered %d (dropped %q), want %d (dropped %q): %s", r.Status, r.Dropped, tt.status, tt.dropped, r.Answer)
			}
			if r.Status == 202 && r.Answer != "" {
				t.Errorf("202 with a body %q", r.Answer)
			}
		})
	}
}

func TestLegacyRelayNeedsIDAndSlug(t *testing.T) {
	s := New(t, Options{LegacyRelay: true})
	s.AddMonitor("m")
	for _, body := range []string{`{"status":"ok","monitor_slug":"m"}`, `{"status":"ok","check_in_id":"a460c25ff2554577b920fcfacae4e5eb"}`} {
		if r := send(t, s, "POST", s.CheckInURL("m"), "application/json", body); r.Status != 400 {
			t.Errorf("%s: answered %d, want 400", body, r.Status)
		}
	}
	if r := send(t, s, "POST", s.CheckInURL("m"), "application/json", `{"status":"ok","monitor_slug":"other","check_in_id":"a460c25ff2554577b920fcfacae4e5eb"}`); r.Status != 202 || r.CheckIn.MonitorSlug != "m" {
		t.Errorf("answered %d for slug %q, want 202 and the path's slug", r.Status, r.CheckIn.MonitorSlug)
	}
}

func TestCheckInLifecycle(t *testing.T) {
	s := New(t, Options{})
	s.AddMonitor("m")
	u := s.CheckInURL("m")
	const id = "a460c25f-f255-4577-b920-fcfacae4e5eb"
	send(t, s, "GET", u+"?status=in_progress&check_in_id="+id+"&duration=9", "", "")
	send(t, s, "GET", u+"?status=ok&check_in_id="+strings.ToUpper(strings.ReplaceAll(id, "-", ""))+"&duration=2.5", "", "")
	send(t, s, "GET", u+"?status=error&check_in_id="+id, "", "")
	if r, _ := s.LastRequest(); r.Dropped != "check-in already finished" {
		t.Errorf("a second finish: dropped %q", r.Dropped)
	}
	cis := s.CheckIns("m")
	if len(cis) != 1 || cis[0].Status != OK || cis[0].Duration == nil || *cis[0].Duration != 2.5 || cis[0].Environment != DefaultEnvironment {
		t.Fatalf("check-ins %+v", cis)
	}
	// The nil UUID closes the newest check-in in progress, or makes one.
	send(t, s, "GET", u+"?status=in_progress&check_in_id=b460c25ff2554577b920fcfacae4e5eb", "", "")
	send(t, s, "GET", u+"?status=error", "", "")
	send(t, s, "GET", u+"?status=ok", "", "")
	cis = s.CheckIns("m")
	if len(cis) != 3 || cis[1].Status != Error || cis[2].Status != OK || cis[2].ID == NilID {
		t.Errorf("check-ins %+v", cis)
	}
}

func TestSlugTruncatedAndRateLimit(t *testing.T) {
	s := New(t, Options{})
	long := strings.Repeat("a", 60)
	s.AddMonitor(long[:SlugLength])
	for range CheckInsPerMinute + 2 {
		send(t, s, "GET", s.CheckInURL(long)+"?status=ok", "", "")
	}
	// Another environment has its own limit.
	send(t, s, "GET", s.CheckInURL(long)+"?status=ok&environment=staging", "", "")
	reqs := s.Requests()
	var dropped int
	for _, r := range reqs {
		if r.Status != 202 {
			t.Errorf("answered %d; Relay never answers 429 here", r.Status)
		}
		if r.Dropped == "rate limited" {
			dropped++
		}
	}
	if dropped != 2 || len(s.CheckIns(long[:SlugLength])) != CheckInsPerMinute+1 {
		t.Errorf("dropped %d, stored %d", dropped, len(s.CheckIns(long[:SlugLength])))
	}
}

func TestUpsertCreatesMonitor(t *testing.T) {
	s := New(t, Options{Prefix: "/sentry/"})
	r := send(t, s, "POST", s.CheckInURL("new"), "application/json",
		`{"status":"in_progress","monitor_config":{"schedule":{"type":"interval","value":5,"unit":"day"},"checkin_margin":5,"max_runtime":10,"timezone":"America/Los_Angeles"}}`)
	if r.Dropped != "" || !strings.HasPrefix(r.Path, "/sentry/api/") {
		t.Fatalf("dropped %q at %s", r.Dropped, r.Path)
	}
	m, ok := s.Monitor("new")
	if !ok || m.Config == nil || m.Config.Schedule != (Schedule{Type: "interval", Value: 5, Unit: "day"}) || *m.Config.CheckinMargin != 5 || *m.Config.MaxRuntime != 10 || m.Config.Timezone != "America/Los_Angeles" {
		t.Errorf("monitor %+v", m)
	}
	if !strings.Contains(s.DSN(), "/sentry/1") || !strings.Contains(s.DSN(), s.PublicKey()+"@") {
		t.Errorf("DSN %s", s.DSN())
	}
}
