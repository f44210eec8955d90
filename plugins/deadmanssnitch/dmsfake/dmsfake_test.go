package dmsfake

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func get(t *testing.T, method, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// Check-ins and their status, as the spec's Methods and parameters table
// gives them.
func TestCheckIns(t *testing.T) {
	s := New(t, Config{})
	token := s.AddSnitch(NewToken())
	if len(token) != 10 || s.State(token) != Pending {
		t.Fatalf("token %q, state %s", token, s.State(token))
	}
	long := strings.Repeat("é", 300)
	tests := []struct {
		method, query string
		status        int
		stored        bool
		failed        bool
		message       string
		state         State
	}{
		{"GET", "", 202, true, false, "", Healthy},
		{"GET", "?s=3&m=disk%20full", 202, true, true, "disk full", Errored},
		{"GET", "?s=0", 202, true, false, "", Healthy},
		{"GET", "?s=fail", 202, true, true, "", Errored},
		{"GET", "?s=", 202, true, false, "", Healthy},
		{"GET", "?m=" + long, 202, true, false, strings.Repeat("é", MaxMessage), Healthy},
		{"POST", "?s=1", 405, false, false, "", Healthy},
		{"HEAD", "", 405, false, false, "", Healthy},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.query[:min(len(tt.query), 12)], func(t *testing.T) {
			resp := get(t, tt.method, s.SnitchURL(token)+tt.query)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			r, _ := s.LastRequest()
			if (r.CheckIn != nil) != tt.stored {
				t.Fatalf("stored %+v, want stored %v", r.CheckIn, tt.stored)
			}
			if tt.stored && (r.CheckIn.Failed != tt.failed || r.CheckIn.Message != tt.message) {
				t.Errorf("stored failed=%v m=%q, want %v %q", r.CheckIn.Failed, r.CheckIn.Message, tt.failed, tt.message)
			}
			if tt.stored && r.Answer != Accepted {
				t.Errorf("answered %q", r.Answer)
			}
			if got := s.State(token); got != tt.state {
				t.Errorf("state %s, want %s", got, tt.state)
			}
		})
	}
}

func TestModes(t *testing.T) {
	s := New(t, Config{Prefix: "/dms"})
	token := s.AddSnitch(NewToken())
	tests := []struct {
		name       string
		mode       Mode
		url        string
		status     int
		retryAfter string
	}{
		{"unknown token", Active, s.SnitchURL("0123456789"), 404, ""},
		{"deleted", Deleted, s.SnitchURL(token), 404, ""},
		{"rate limited", RateLimited, s.SnitchURL(token), 429, "60"},
		{"failing", Failing, s.SnitchURL(token), 500, ""},
		{"outside the prefix", Active, s.URL() + "/" + token, 404, ""},
		{"a path after the token", Active, s.SnitchURL(token) + "/x", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.SetMode(token, tt.mode)
			resp := get(t, "GET", tt.url)
			if resp.StatusCode != tt.status || resp.Header.Get("Retry-After") != tt.retryAfter {
				t.Errorf("answered %d with Retry-After %q, want %d and %q", resp.StatusCode, resp.Header.Get("Retry-After"), tt.status, tt.retryAfter)
			}
		})
	}
	if n := len(s.CheckIns(token)); n != 0 || s.State(token) != Pending {
		t.Errorf("%d check-ins stored, state %s", n, s.State(token))
	}
	s.SetMode(token, Active)
	s.SetOutage(http.StatusServiceUnavailable)
	if resp := get(t, "GET", s.SnitchURL(token)); resp.StatusCode != 503 {
		t.Errorf("outage answered %d", resp.StatusCode)
	}
	s.SetOutage(0)
	if resp := get(t, "GET", s.SnitchURL(token)); resp.StatusCode != AcceptedStatus || len(s.CheckIns(token)) != 1 {
		t.Errorf("after the outage: %d, %d check-ins", resp.StatusCode, len(s.CheckIns(token)))
	}
}
