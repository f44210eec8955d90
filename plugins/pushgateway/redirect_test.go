package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/pushgateway/pgfake"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

const testPassword = "pa55word-never-shown"

// recorder is a server that records what reaches it.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
	auth []string
	body []string
}

func (rec *recorder) add(r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.reqs = append(rec.reqs, r)
	rec.auth = append(rec.auth, r.Header.Get("Authorization"))
	rec.body = append(rec.body, string(b))
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.reqs)
}

// The password never follows a redirect to another server or to plain
// http; a redirect on the same server is followed only when it keeps the
// POST and its body.
func TestRedirects(t *testing.T) {
	var elsewhere recorder
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.add(r) }))
	defer other.Close()
	tests := []struct {
		name    string
		tls     bool
		status  int
		to      string // relative to the server itself when it starts with /
		wantErr string // "" when delivered
	}{
		{"307 to another host", false, http.StatusTemporaryRedirect, other.URL + "/metrics/job/heartbeat", "another host"},
		{"308 from https to plain http", true, http.StatusPermanentRedirect, other.URL + "/metrics/job/heartbeat", "plain http"},
		{"301 on the same server turns POST into GET", false, http.StatusMovedPermanently, "/moved", "turns the push into a GET"},
		{"302 on the same server turns POST into GET", false, http.StatusFound, "/moved", "turns the push into a GET"},
		{"307 on the same server", false, http.StatusTemporaryRedirect, "/moved", ""},
		{"308 on the same server", false, http.StatusPermanentRedirect, "/moved", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var moved recorder
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasPrefix(r.URL.Path, "/moved") {
					moved.add(r)
					if r.Method != http.MethodPost {
						w.WriteHeader(http.StatusMethodNotAllowed)
					}
					return
				}
				_, _ = io.Copy(io.Discard, r.Body)
				to := tt.to
				if strings.HasPrefix(to, "/") {
					to += r.URL.Path
				}
				http.Redirect(w, r, to, tt.status)
			})
			var srv *httptest.Server
			settings := settingsMap{"username": "hb", "password": testPassword}
			if tt.tls {
				srv = httptest.NewTLSServer(handler)
				settings["insecure_skip_verify"] = true
			} else {
				srv = httptest.NewServer(handler)
			}
			defer srv.Close()
			settings["url"] = srv.URL
			before := elsewhere.count()
			c, _ := mustConfigure(t, settings)
			_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
			if n := elsewhere.count() - before; n > 0 {
				t.Errorf("the other server received %d request(s)", n)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("not delivered: %v", err)
			case tt.wantErr == "":
				if moved.count() != 1 || moved.reqs[0].Method != http.MethodPost || !strings.Contains(moved.body[0], mSuccess) {
					t.Errorf("the redirect lost the push: %d requests, bodies %q", moved.count(), moved.body)
				}
			case err == nil:
				t.Errorf("delivered; want a permanent error with %q", tt.wantErr)
			case sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error %v (%s), want a permanent one with %q", err, sdk.KindOf(err), tt.wantErr)
			case moved.count() > 0:
				t.Errorf("followed the redirect with %s", moved.reqs[0].Method)
			}
			if err != nil && strings.Contains(err.Error(), testPassword) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// TestSecretsNeverShown collects everything the plugin shows (descriptions,
// details, errors, log lines at every level) across successes and failures,
// and looks for the password in any form.
func TestSecretsNeverShown(t *testing.T) {
	srv := pgfake.New(t, pgfake.Config{Username: "hb", Password: testPassword})
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A proxy that quotes the request, credentials included.
		_, password, _ := r.BasicAuth()
		http.Error(w, "denied: "+r.Header.Get("Authorization")+" "+password, http.StatusBadGateway)
	}))
	t.Cleanup(echo.Close)
	echo400 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, password, _ := r.BasicAuth()
		http.Error(w, "bad request from "+password, http.StatusBadRequest)
	}))
	t.Cleanup(echo400.Close)
	gone := pgfake.Start(pgfake.Config{})
	gone.Close()

	var logs bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
	var shown []string
	for _, base := range []string{srv.URL(), echo.URL, echo400.URL, gone.URL(), strings.Replace(srv.URL(), "http://", "https://", 1)} {
		for _, password := range []string{testPassword, testPassword + "-wrong"} {
			raw := mustJSON(t, settingsMap{"url": base, "username": "hb", "password": password, "labels": map[string]any{"env": "prod"}})
			inst, err := target{}.Configure(context.Background(), sdk.ConfigureRequest{Instance: instanceName, Settings: raw, Logger: logger})
			if err != nil {
				t.Fatalf("configure: %v", err)
			}
			shown = append(shown, inst.Describe())
			for _, sig := range []sdk.Signal{sdk.SignalSuccess, sdk.SignalStart, sdk.SignalFail, sdk.SignalLog} {
				res, err := inst.Beat(context.Background(), sdk.Beat{Heartbeat: "svc", Signal: sig, ExitCode: intp(1)})
				shown = append(shown, res.Detail)
				if err != nil {
					shown = append(shown, err.Error())
				}
			}
		}
	}
	for _, s := range []settingsMap{
		{"url": "http://hb:" + testPassword + "@pg:9091"},
		{"url": "http://pg:9091", "password": testPassword},
		{"url": "pg:9091", "username": "hb", "password": testPassword},
	} {
		_, _, err := configure(t, s)
		if err == nil {
			t.Fatalf("accepted %v", s)
		}
		shown = append(shown, err.Error())
	}
	shown = append(shown, strings.Split(logs.String(), "\n")...)
	if len(shown) < 60 {
		t.Fatalf("only %d things shown: the test lost its cases", len(shown))
	}
	var secrets []string
	for _, p := range []string{testPassword, testPassword + "-wrong"} {
		secrets = append(secrets, p, base64.StdEncoding.EncodeToString([]byte("hb:"+p)))
	}
	for _, s := range shown {
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("shows a secret: %q", s)
			}
		}
	}
	// The label values stay out of everything but debug lines.
	for _, s := range shown {
		if strings.Contains(s, "/env/prod") && !strings.Contains(s, "[DEBUG]") {
			t.Errorf("shows the grouping key's values above debug level: %q", s)
		}
	}
}
