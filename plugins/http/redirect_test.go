package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// redirectServer records requests and answers each with a redirect to
// location, or 200 once location is "".
type redirectServer struct {
	mu       sync.Mutex
	location string
	status   int
	got      []*http.Request
}

func (s *redirectServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.got = append(s.got, r.Clone(r.Context()))
	loc, status := s.location, s.status
	s.mu.Unlock()
	if loc != "" && !strings.HasPrefix(r.URL.Path, "/moved") {
		w.Header().Set("Location", loc)
		w.WriteHeader(status)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *redirectServer) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.got...)
}

// The http target's secrets (URL, headers) never follow a redirect to
// another server or to plain http, and no Referer is ever sent.
func TestRedirectsKeepSecrets(t *testing.T) {
	collector := &redirectServer{}
	collectorSrv := httptest.NewServer(collector) // another port: another host
	defer collectorSrv.Close()
	tests := []struct {
		name     string
		tls      bool
		status   int
		location string // relative to the target's own server when it starts with /
		extra    settingsMap
		// wantErr is part of the permanent error; "" when delivered.
		wantErr string
	}{
		{"307 to another host", false, 307, collectorSrv.URL + "/collect", nil, "another host"},
		{"302 to another host", false, 302, collectorSrv.URL + "/collect", nil, "another host"},
		{"https to plain http", true, 307, collectorSrv.URL + "/collect", nil, "plain http"},
		{"same host", false, 307, "/moved", nil, ""},
		{"same host with follow_redirects none", false, 307, "/moved", settingsMap{"follow_redirects": "none"}, "redirects to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin := &redirectServer{location: tt.location, status: tt.status}
			var srv *httptest.Server
			settings := settingsMap{"method": "POST", "body": "up", "headers": map[string]string{"X-Api-Key": secret}}
			if tt.tls {
				srv = httptest.NewTLSServer(origin)
				settings["insecure_skip_verify"] = true
			} else {
				srv = httptest.NewServer(origin)
			}
			defer srv.Close()
			settings["url"] = srv.URL + "/ping/" + secret
			for k, v := range tt.extra {
				settings[k] = v
			}
			before := len(collector.requests())
			c, _ := mustConfigure(t, settings)
			res, err := beat(t, c, sdk.SignalSuccess)
			if n := len(collector.requests()) - before; n > 0 {
				t.Errorf("the other host received %d request(s), with X-Api-Key %q", n, collector.requests()[before].Header.Get("X-Api-Key"))
			}
			for _, r := range origin.requests() {
				if ref := r.Header.Get("Referer"); ref != "" {
					t.Errorf("%s was sent a Referer: %q", r.URL.Path, ref)
				}
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("not delivered: %v", err)
				}
				got := origin.requests()
				if last := got[len(got)-1]; last.URL.Path != "/moved" || last.Header.Get("X-Api-Key") != secret {
					t.Errorf("the redirect on the same host was not followed with the target's headers: %s", last.URL.Path)
				}
				return
			}
			switch {
			case err == nil:
				t.Fatalf("reported delivered (%s); want a permanent error with %q", res.Detail, tt.wantErr)
			case sdk.KindOf(err) != sdk.KindPermanent:
				t.Errorf("kind %s, want permanent: %v", sdk.KindOf(err), err)
			case !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error %q lacks %q", err, tt.wantErr)
			case strings.Contains(err.Error(), secret):
				t.Errorf("error shows the secret: %q", err)
			}
			if host := strings.TrimPrefix(collectorSrv.URL, "http://"); strings.HasPrefix(tt.location, "http") && !strings.Contains(err.Error(), host) {
				t.Errorf("error %q does not name where the redirect leads (%s)", err, host)
			}
		})
	}
}
