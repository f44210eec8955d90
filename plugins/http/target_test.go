package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

const instanceName = "web"

// secret is the part of a ping URL that must never be shown in full.
const secret = "9f2c4e1a-7b3d-4c5e-8f6a-0b1c2d3e4f5a"

type settingsMap map[string]any

func configure(t *testing.T, s settingsMap) (sdk.Client, string, error) {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	c := sdktest.Dial(t, target{})
	desc, err := c.Configure(context.Background(), instanceName, raw)
	return c, desc, err
}

func mustConfigure(t *testing.T, s settingsMap) (sdk.Client, string) {
	t.Helper()
	c, desc, err := configure(t, s)
	if err != nil {
		t.Fatalf("configure %v: %v", s, err)
	}
	return c, desc
}

func beat(t *testing.T, c sdk.Client, signal sdk.Signal) (sdk.Result, error) {
	t.Helper()
	return c.Beat(context.Background(), instanceName, sdk.Beat{Heartbeat: "butler-sos", Signal: signal, Sequence: 1, Attempt: 1})
}

// request is what the server received.
type request struct {
	Method string
	Path   string
	Host   string
	Header http.Header
	Body   string
}

// server records requests and answers with status.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	status   int
}

func newServer(t *testing.T, status int) *server {
	t.Helper()
	s := &server{status: status}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func newTLSServer(t *testing.T) *server {
	t.Helper()
	s := &server{status: http.StatusOK}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Close)
	return s
}

func (s *server) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.requests = append(s.requests, request{Method: r.Method, Path: r.URL.RequestURI(), Host: r.Host, Header: r.Header.Clone(), Body: string(body)})
	status := s.status
	s.mu.Unlock()
	w.WriteHeader(status)
}

func (s *server) got() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.requests...)
}

func TestSettingsErrors(t *testing.T) {
	caDir := t.TempDir()
	notPEM := filepath.Join(caDir, "not-pem.txt")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := "https://status.example.com/ping/" + secret
	tests := []struct {
		name     string
		settings settingsMap
		field    string
		message  string
	}{
		{"url missing", settingsMap{}, "url", "is required"},
		{"url empty", settingsMap{"url": ""}, "url", "is required"},
		{"url unparsable", settingsMap{"url": "https://status.example.com/" + secret + "/%zz"}, "url", "is not a valid URL"},
		{"url without scheme", settingsMap{"url": "status.example.com/ping/" + secret}, "url", "must start with http:// or https://"},
		{"url ftp scheme", settingsMap{"url": "ftp://status.example.com/" + secret}, "url", "must start with http:// or https://"},
		{"url without host", settingsMap{"url": "https:///ping/" + secret}, "url", "has no host name"},
		{"url wrong type", settingsMap{"url": 42}, "url", "must be a string"},
		{"fail_url invalid", settingsMap{"url": good, "fail_url": "mailto:ops@example.com"}, "fail_url", "must start with http:// or https://"},
		{"method unsupported", settingsMap{"url": good, "method": "DELETE"}, "method", `"DELETE" is not supported`},
		{"HEAD with a body", settingsMap{"url": good, "method": "head", "body": "x"}, "body", "HEAD request cannot carry a body"},
		{"success_status not a code", settingsMap{"url": good, "success_status": []string{"ok"}}, "success_status", "neither a status code"},
		{"success_status out of range", settingsMap{"url": good, "success_status": []string{"600"}}, "success_status", "100-599"},
		{"success_status bad class", settingsMap{"url": good, "success_status": []string{"6xx"}}, "success_status", "class such as 2xx"},
		{"success_status not a code", settingsMap{"url": good, "success_status": []any{true}}, "success_status", "true is neither a status code"},
		{"success_status a fraction", settingsMap{"url": good, "success_status": []any{200.5}}, "success_status", `"200.5" is neither a status code`},
		{"success_status a mapping", settingsMap{"url": good, "success_status": map[string]int{"ok": 200}}, "success_status", "must be a list"},
		{"header name with a space", settingsMap{"url": good, "headers": map[string]string{"X Token": "v"}}, "headers", `"X Token" is not a valid header name`},
		{"header name with a colon", settingsMap{"url": good, "headers": map[string]string{"X-Token:": "v"}}, "headers", "not a valid header name"},
		{"header name with a bracket", settingsMap{"url": good, "headers": map[string]string{"X-(Token)": "v"}}, "headers", "not a valid header name"},
		{"header name empty", settingsMap{"url": good, "headers": map[string]string{"": "v"}}, "headers", "not a valid header name"},
		{"header value with a line break", settingsMap{"url": good, "headers": map[string]string{"Authorization": "Bearer " + secret + "\r\nX-Evil: 1"}}, "headers", "line break"},
		{"timeout negative", settingsMap{"url": good, "timeout": "-1s"}, "timeout", "must be positive"},
		{"timeout not a duration", settingsMap{"url": good, "timeout": "soon"}, "timeout", "not a duration"},
		{"ca_file unreadable", settingsMap{"url": good, "ca_file": filepath.Join(caDir, "missing.pem")}, "ca_file", "cannot read the CA file"},
		{"ca_file not PEM", settingsMap{"url": good, "ca_file": notPEM}, "ca_file", "holds no PEM certificate"},
		{"insecure_skip_verify not a bool", settingsMap{"url": good, "insecure_skip_verify": "yes"}, "insecure_skip_verify", "true or false"},
		{"unknown setting", settingsMap{"url": good, "remoteURL": good}, "remoteURL", "unknown setting"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := configure(t, tc.settings)
			var fes sdk.FieldErrors
			if !errors.As(err, &fes) {
				t.Fatalf("error %v is no FieldErrors", err)
			}
			found := false
			for _, fe := range fes {
				if fe.Field == tc.field && strings.Contains(fe.Message, tc.message) {
					found = true
				}
			}
			if !found {
				t.Errorf("errors %q lack %s: ...%s...", err, tc.field, tc.message)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the secret: %q", err)
			}
		})
	}
}

func TestValidSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings settingsMap
		desc     string
	}{
		{"url only", settingsMap{"url": "https://status.example.com/ping/" + secret}, "GET https://status.example.com/…4f5a"},
		{"method in lower case", settingsMap{"url": "http://status.example.com/" + secret, "method": "post", "body": "{}"}, "POST http://status.example.com/…4f5a"},
		{"with fail_url", settingsMap{"url": "https://status.example.com/ping/" + secret, "fail_url": "https://status.example.com/ping/" + secret + "/fail"}, "GET https://status.example.com/…4f5a, fail: https://status.example.com/…"},
		{"query secret", settingsMap{"url": "https://status.example.com/api/push?token=" + secret}, "GET https://status.example.com/…?…"},
		{"user info", settingsMap{"url": "https://user:" + secret + "@status.example.com/"}, "GET https://status.example.com"},
		{"every setting", settingsMap{
			"url": "https://status.example.com/" + secret, "method": "PUT", "headers": map[string]string{"Authorization": "Bearer " + secret},
			"body": "up", "timeout": "5s", "success_status": []string{"2xx", "304"}, "fail_url": "https://status.example.com/fail",
			"insecure_skip_verify": true,
		}, "PUT https://status.example.com/…4f5a, fail: https://status.example.com/…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, desc := mustConfigure(t, tc.settings)
			if desc != tc.desc {
				t.Errorf("Describe = %q, want %q", desc, tc.desc)
			}
			if strings.Contains(desc, secret) {
				t.Errorf("Describe shows the secret: %q", desc)
			}
		})
	}
}

func TestRequestSent(t *testing.T) {
	tests := []struct {
		name     string
		settings settingsMap
		want     request
		header   map[string]string
	}{
		{
			name:     "default GET without body",
			settings: settingsMap{},
			want:     request{Method: "GET", Path: "/ping/" + secret},
			header:   map[string]string{"User-Agent": "heartbeat/" + sdk.Version()},
		},
		{
			name:     "POST with body and headers",
			settings: settingsMap{"method": "POST", "body": `{"status":"up"}`, "headers": map[string]string{"Content-Type": "application/json", "authorization": "Bearer t0k"}},
			want:     request{Method: "POST", Path: "/ping/" + secret, Body: `{"status":"up"}`},
			header:   map[string]string{"Content-Type": "application/json", "Authorization": "Bearer t0k", "User-Agent": "heartbeat/" + sdk.Version()},
		},
		{name: "PUT", settings: settingsMap{"method": "PUT", "body": "up"}, want: request{Method: "PUT", Path: "/ping/" + secret, Body: "up"}},
		{name: "PATCH", settings: settingsMap{"method": "patch"}, want: request{Method: "PATCH", Path: "/ping/" + secret}},
		{name: "HEAD", settings: settingsMap{"method": "HEAD"}, want: request{Method: "HEAD", Path: "/ping/" + secret}},
		{name: "GET with a body", settings: settingsMap{"body": "x"}, want: request{Method: "GET", Path: "/ping/" + secret, Body: "x"}},
		{
			name:     "own User-Agent wins",
			settings: settingsMap{"headers": map[string]string{"User-Agent": "butler-sos/13"}},
			want:     request{Method: "GET", Path: "/ping/" + secret},
			header:   map[string]string{"User-Agent": "butler-sos/13"},
		},
		{
			name:     "Host header sets the virtual host",
			settings: settingsMap{"headers": map[string]string{"host": "status.example.com"}},
			want:     request{Method: "GET", Path: "/ping/" + secret, Host: "status.example.com"},
		},
		{
			name:     "query string kept",
			settings: settingsMap{"url": "/api/push/x?status=up&msg=OK"},
			want:     request{Method: "GET", Path: "/api/push/x?status=up&msg=OK"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, http.StatusOK)
			s := settingsMap{"url": srv.URL + "/ping/" + secret}
			for k, v := range tc.settings {
				if k == "url" {
					v = srv.URL + v.(string)
				}
				s[k] = v
			}
			c, _ := mustConfigure(t, s)
			res, err := beat(t, c, sdk.SignalSuccess)
			if err != nil || res.Detail != "200 OK" {
				t.Fatalf("beat = %+v, %v", res, err)
			}
			reqs := srv.got()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tc.want.Method || r.Path != tc.want.Path || r.Body != tc.want.Body {
				t.Errorf("got %s %s body %q, want %s %s body %q", r.Method, r.Path, r.Body, tc.want.Method, tc.want.Path, tc.want.Body)
			}
			if tc.want.Host != "" && r.Host != tc.want.Host {
				t.Errorf("Host = %q, want %q", r.Host, tc.want.Host)
			}
			for k, v := range tc.header {
				if got := r.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestStatusHandling(t *testing.T) {
	tests := []struct {
		status  int
		accept  any
		detail  string   // delivered with this detail
		kind    sdk.Kind // else failed with this kind
		message string
	}{
		{status: 200, detail: "200 OK"},
		{status: 201, detail: "201 Created"},
		{status: 204, detail: "204 No Content"},
		{status: 299, detail: "299 "},
		{status: 304, kind: sdk.KindPermanent, message: "answered 304 Not Modified"},
		{status: 400, kind: sdk.KindPermanent, message: "answered 400 Bad Request"},
		{status: 401, kind: sdk.KindPermanent, message: "answered 401 Unauthorized"},
		{status: 403, kind: sdk.KindPermanent, message: "answered 403 Forbidden"},
		{status: 404, kind: sdk.KindNotFound, message: "answered 404 Not Found: check the url"},
		{status: 410, kind: sdk.KindNotFound, message: "answered 410 Gone"},
		{status: 408, kind: sdk.KindTemporary, message: "answered 408 Request Timeout"},
		{status: 429, kind: sdk.KindRateLimited, message: "answered 429 Too Many Requests: the server asks to slow down"},
		{status: 500, kind: sdk.KindTemporary, message: "answered 500 Internal Server Error"},
		{status: 502, kind: sdk.KindTemporary, message: "answered 502 Bad Gateway"},
		{status: 503, kind: sdk.KindTemporary, message: "answered 503 Service Unavailable"},
		{status: 204, accept: []string{"204"}, detail: "204 No Content"},
		{status: 200, accept: []string{"204"}, kind: sdk.KindPermanent, message: "answered 200 OK"},
		{status: 404, accept: []string{"2xx", "404"}, detail: "404 Not Found"},
		{status: 304, accept: []string{"2XX", " 3xx "}, detail: "304 Not Modified"},
		{status: 503, accept: []string{"5xx"}, detail: "503 Service Unavailable"},
		// YAML writes codes as numbers: [200, 204] reaches the plugin as JSON numbers.
		{status: 204, accept: []any{200.0, 204.0}, detail: "204 No Content"},
		{status: 201, accept: []any{200.0, 204.0}, kind: sdk.KindPermanent, message: "answered 201 Created"},
		{status: 202, accept: []any{202.0, "3xx"}, detail: "202 Accepted"},
		{status: 204, accept: 204.0, detail: "204 No Content"},
		{status: 200, accept: "2xx", detail: "200 OK"},
	}
	for _, tc := range tests {
		name := http.StatusText(tc.status)
		if tc.accept != nil {
			name += fmt.Sprintf(" accepting %v", tc.accept)
		}
		t.Run(name, func(t *testing.T) {
			srv := newServer(t, tc.status)
			s := settingsMap{"url": srv.URL + "/ping/" + secret}
			if tc.accept != nil {
				s["success_status"] = tc.accept
			}
			c, _ := mustConfigure(t, s)
			res, err := beat(t, c, sdk.SignalSuccess)
			if tc.detail != "" {
				if err != nil || res.Detail != tc.detail {
					t.Errorf("beat = %+v, %v; want delivered with %q", res, err, tc.detail)
				}
				return
			}
			if err == nil {
				t.Fatalf("beat delivered (%+v); want a %s error", res, tc.kind)
			}
			if sdk.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q (kind %s), want kind %s with %q", err, sdk.KindOf(err), tc.kind, tc.message)
			}
			if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "…4f5a") {
				t.Errorf("error %q must show the redacted URL only", err)
			}
		})
	}
}

func TestSignals(t *testing.T) {
	tests := []struct {
		name        string
		failURL     bool
		signal      sdk.Signal
		wantMain    int
		wantFail    int
		wantDetail  string
		wantErrKind *sdk.Kind
	}{
		{name: "success goes to url", signal: sdk.SignalSuccess, wantMain: 1, wantDetail: "200 OK"},
		{name: "success with fail_url still goes to url", failURL: true, signal: sdk.SignalSuccess, wantMain: 1, wantDetail: "200 OK"},
		{name: "fail without fail_url sends nothing", signal: sdk.SignalFail, wantDetail: "not sent: no fail_url"},
		{name: "fail goes to fail_url", failURL: true, signal: sdk.SignalFail, wantFail: 1, wantDetail: "200 OK"},
		{name: "start is not delivered", failURL: true, signal: sdk.SignalStart, wantErrKind: ptr(sdk.KindPermanent)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			main, fail := newServer(t, http.StatusOK), newServer(t, http.StatusOK)
			s := settingsMap{"url": main.URL + "/ping/" + secret}
			if tc.failURL {
				s["fail_url"] = fail.URL + "/ping/" + secret + "/fail"
			}
			c, _ := mustConfigure(t, s)
			res, err := beat(t, c, tc.signal)
			if tc.wantErrKind != nil {
				if err == nil || sdk.KindOf(err) != *tc.wantErrKind {
					t.Errorf("beat = %+v, %v; want a %s error", res, err, *tc.wantErrKind)
				}
			} else if err != nil || !strings.HasPrefix(res.Detail, tc.wantDetail) {
				t.Errorf("beat = %+v, %v; want detail %q", res, err, tc.wantDetail)
			}
			if n := len(main.got()); n != tc.wantMain {
				t.Errorf("url got %d requests, want %d", n, tc.wantMain)
			}
			if n := len(fail.got()); n != tc.wantFail {
				t.Errorf("fail_url got %d requests, want %d", n, tc.wantFail)
			}
			if tc.wantFail == 1 && fail.got()[0].Path != "/ping/"+secret+"/fail" {
				t.Errorf("fail_url request path %s", fail.got()[0].Path)
			}
		})
	}
	info := target{}.Info()
	if !info.Supports(sdk.SignalSuccess) || !info.Supports(sdk.SignalFail) || info.Supports(sdk.SignalStart) || info.Supports(sdk.SignalLog) {
		t.Errorf("Info.Signals = %v, want success and fail", info.Signals)
	}
}

func ptr[T any](v T) *T { return &v }

func TestNetworkErrorsAreTemporaryAndRedacted(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		timeout string
		message string
	}{
		{name: "connection refused", message: "connect"},
		{
			name:    "no answer before the timeout",
			timeout: "50ms",
			handler: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
			message: "no answer before the timeout",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			url := srv.URL + "/ping/" + secret
			if tc.handler == nil {
				srv.Close() // nothing listens any more
			} else {
				t.Cleanup(srv.Close)
			}
			s := settingsMap{"url": url}
			if tc.timeout != "" {
				s["timeout"] = tc.timeout
			}
			c, _ := mustConfigure(t, s)
			_, err := beat(t, c, sdk.SignalSuccess)
			if err == nil || sdk.KindOf(err) != sdk.KindTemporary || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %v (kind %s); want a temporary error with %q", err, sdk.KindOf(err), tc.message)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "/ping/") {
				t.Errorf("error shows the URL path: %q", err)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	srv := newTLSServer(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		settings settingsMap
		ok       bool
	}{
		{name: "unknown CA", settings: settingsMap{}},
		{name: "ca_file trusts the server", settings: settingsMap{"ca_file": caFile}, ok: true},
		{name: "insecure_skip_verify", settings: settingsMap{"insecure_skip_verify": true}, ok: true},
		{name: "insecure_skip_verify false", settings: settingsMap{"insecure_skip_verify": false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := settingsMap{"url": srv.URL + "/ping/" + secret}
			for k, v := range tc.settings {
				s[k] = v
			}
			c, _ := mustConfigure(t, s)
			res, err := beat(t, c, sdk.SignalSuccess)
			if tc.ok {
				if err != nil || res.Detail != "200 OK" {
					t.Errorf("beat = %+v, %v", res, err)
				}
				return
			}
			if err == nil {
				t.Fatal("a server with an unknown CA was trusted")
			}
			msg := err.Error()
			if sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(msg, "certificate") || !strings.Contains(msg, "ca_file") || strings.Contains(msg, secret) {
				t.Errorf("error %q (kind %s); want a permanent error about the certificate suggesting ca_file, without the secret", msg, sdk.KindOf(err))
			}
		})
	}
}

func TestInfoDocumentsEverySetting(t *testing.T) {
	known := map[string]bool{}
	for _, s := range (target{}).Info().Settings {
		known[s.Name] = true
	}
	samples := settingsMap{
		"url": "https://status.example.com/ping", "method": "POST", "headers": map[string]string{"X-A": "b"}, "body": "up",
		"timeout": "5s", "success_status": []string{"204"}, "fail_url": "https://status.example.com/fail",
		"ca_file": "/etc/ssl/ca.pem", "insecure_skip_verify": true, "follow_redirects": "none",
	}
	for name, value := range samples {
		if !known[name] {
			t.Errorf("Info lacks setting %s", name)
		}
		// Every documented setting is accepted.
		raw, _ := json.Marshal(settingsMap{name: value})
		var s settings
		if err := sdk.Settings(raw).Decode(&s); err != nil {
			t.Errorf("setting %s rejected: %v", name, err)
		}
	}
	if len(known) != len(samples) {
		t.Errorf("Info documents %d settings, the test knows %d", len(known), len(samples))
	}
}

func TestStatusSetHas(t *testing.T) {
	tests := []struct {
		specs  []string
		accept []int
		refuse []int
	}{
		{nil, []int{200, 204, 299}, []int{199, 300, 404, 500}},
		{[]string{"2xx", "304"}, []int{200, 250, 304}, []int{301, 305, 404}},
		{[]string{"5xx"}, []int{500, 599}, []int{200, 499}},
		{[]string{"1xx", "418", "418"}, []int{100, 199, 418}, []int{200, 417, 419}},
		{[]string{"204"}, []int{204}, []int{200, 205, 600, 0}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.specs, ","), func(t *testing.T) {
			set, err := parseStatusSet(tt.specs)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.accept {
				if !set.has(c) {
					t.Errorf("%d refused", c)
				}
			}
			for _, c := range tt.refuse {
				if set.has(c) {
					t.Errorf("%d accepted", c)
				}
			}
		})
	}
}
