package bsfake

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func do(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// The routes and states of the spec's URL forms and Responses table.
func TestRoutes(t *testing.T) {
	s := New(t, Config{})
	token := s.AddHeartbeat(NewToken())
	if st := s.Status(token); st != Pending {
		t.Fatalf("a new heartbeat is %s, want pending", st)
	}
	tests := []struct {
		method, suffix string
		status         int
		kind           Kind // "" when nothing is stored
		exit           int  // -1 when none
		after          Status
	}{
		{"GET", "", 200, KindSuccess, -1, Up},
		{"POST", "/fail", 200, KindFailure, -1, Down},
		{"GET", "/0", 200, KindSuccess, 0, Up},
		{"POST", "/3", 200, KindFailure, 3, Down},
		// Not in the spec whether the plain URL resolves an incident: the
		// fake leaves it open.
		{"GET", "/", 200, KindSuccess, -1, Down},
		{"POST", "/0/", 200, KindSuccess, 0, Up},
		{"PUT", "", 405, "", -1, Up},
		{"GET", "/start", 404, "", -1, Up},
		{"GET", "/log", 404, "", -1, Up},
		{"GET", "/1/2", 404, "", -1, Up},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.suffix, func(t *testing.T) {
			resp, _ := do(t, tt.method, s.HeartbeatURL(token)+tt.suffix, "output")
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			r, _ := s.LastRequest()
			switch {
			case tt.kind == "" && r.Report != nil:
				t.Errorf("stored %+v", r.Report)
			case tt.kind != "" && (r.Report == nil || r.Report.Kind != tt.kind):
				t.Errorf("stored %+v, want kind %s", r.Report, tt.kind)
			case tt.kind != "" && tt.exit >= 0 && (r.Report.ExitCode == nil || *r.Report.ExitCode != tt.exit):
				t.Errorf("exit code %v, want %d", r.Report.ExitCode, tt.exit)
			case tt.kind != "" && tt.exit < 0 && r.Report.ExitCode != nil:
				t.Errorf("exit code %d, want none", *r.Report.ExitCode)
			}
			if tt.kind == KindFailure && tt.method == "POST" && string(r.Report.Body) != "output" {
				t.Errorf("body %q", r.Report.Body)
			}
			if st := s.Status(token); st != tt.after {
				t.Errorf("status %s, want %s", st, tt.after)
			}
		})
	}
}

func TestStates(t *testing.T) {
	s := New(t, Config{Prefix: "/bs"})
	token := s.AddHeartbeat(NewToken())
	tests := []struct {
		name       string
		state      State
		url        string
		status     int
		retryAfter string
	}{
		{"unknown token", Active, s.HeartbeatURL("nope"), 404, ""},
		{"deleted", Deleted, s.HeartbeatURL(token), 404, ""},
		{"rate limited", RateLimited, s.HeartbeatURL(token), 429, "60"},
		{"failing", Failing, s.HeartbeatURL(token), 500, ""},
		{"outside the prefix", Active, s.URL() + "/api/v1/heartbeat/" + token, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.SetState(token, tt.state)
			resp, _ := do(t, "GET", tt.url, "")
			if resp.StatusCode != tt.status || resp.Header.Get("Retry-After") != tt.retryAfter {
				t.Errorf("answered %d with Retry-After %q, want %d and %q", resp.StatusCode, resp.Header.Get("Retry-After"), tt.status, tt.retryAfter)
			}
			if r, _ := s.LastRequest(); r.Report != nil {
				t.Errorf("stored %+v", r.Report)
			}
		})
	}
	if n := len(s.Reports(token)); n != 0 {
		t.Errorf("%d reports stored", n)
	}
	s.SetState(token, Active)
	s.SetOutage(http.StatusBadGateway)
	if resp, _ := do(t, "GET", s.HeartbeatURL(token), ""); resp.StatusCode != 502 {
		t.Errorf("outage answered %d", resp.StatusCode)
	}
	s.SetOutage(0)
	if resp, _ := do(t, "GET", s.HeartbeatURL(token), ""); resp.StatusCode != 200 || len(s.Reports(token)) != 1 {
		t.Errorf("after the outage: %d, %d reports", resp.StatusCode, len(s.Reports(token)))
	}
}
