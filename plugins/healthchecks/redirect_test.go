package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// The check's UUID never follows a redirect to another server or to plain
// http; a redirect on the same server is followed without a Referer.
func TestRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer other.Close()
	tests := []struct {
		name    string
		tls     bool
		to      string // the redirect's target; relative to the server itself when it starts with /
		wantErr string // "" when delivered
	}{
		{"to another host", false, other.URL + "/" + testUUID, "another host"},
		{"from https to plain http", true, other.URL + "/" + testUUID, "plain http"},
		{"on the same server", false, "/moved/" + testUUID, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var referers atomic.Int32
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("Referer") != "" {
					referers.Add(1)
				}
				if strings.HasPrefix(r.URL.Path, "/moved/") {
					_, _ = w.Write([]byte("OK"))
					return
				}
				http.Redirect(w, r, tt.to, http.StatusTemporaryRedirect)
			})
			var srv *httptest.Server
			settings := settingsMap{}
			if tt.tls {
				srv = httptest.NewTLSServer(handler)
				settings["insecure_skip_verify"] = true
			} else {
				srv = httptest.NewServer(handler)
			}
			defer srv.Close()
			settings["ping_url"] = srv.URL + "/" + testUUID
			before := elsewhere.Load()
			c, _ := mustConfigure(t, settings)
			_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
			if n := elsewhere.Load() - before; n > 0 {
				t.Errorf("the other server received %d request(s)", n)
			}
			if referers.Load() > 0 {
				t.Error("a Referer was sent")
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("not delivered: %v", err)
			case tt.wantErr == "":
			case err == nil:
				t.Errorf("delivered; want a permanent error with %q", tt.wantErr)
			case sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error %v (%s), want a permanent one with %q", err, sdk.KindOf(err), tt.wantErr)
			case strings.Contains(err.Error(), testUUID):
				t.Errorf("error shows the UUID: %v", err)
			}
		})
	}
}
