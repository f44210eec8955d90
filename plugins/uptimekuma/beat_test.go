package main

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/uptimekuma/kumafake"
)

func TestSignals(t *testing.T) {
	exit3 := 3
	tests := []struct {
		name       string
		beat       sdk.Beat
		wantStatus string
		wantMsg    string
		wantStored kumafake.Status
	}{
		{"success", success(), "up", "OK", kumafake.Up},
		{"success with message", sdk.Beat{Signal: sdk.SignalSuccess, Message: "disk 41% full"}, "up", "disk 41% full", kumafake.Up},
		{"fail", fail(), "down", "check failed", kumafake.Down},
		{"fail with exit code", sdk.Beat{Signal: sdk.SignalFail, ExitCode: &exit3}, "down", "check failed (exit code 3)", kumafake.Down},
		{"fail with message", sdk.Beat{Signal: sdk.SignalFail, Message: "connection refused", ExitCode: &exit3}, "down", "connection refused", kumafake.Down},
	}
	for _, v := range []kumafake.Version{kumafake.V1, kumafake.V2} {
		for _, tt := range tests {
			t.Run(string(v)+"/"+tt.name, func(t *testing.T) {
				s := kumafake.New(t, kumafake.Options{Version: v})
				token := s.AddMonitor()
				p := dial(t)
				p.mustConfigure(conf{"push_url": s.PushURL(token)})
				res, err := p.beat(tt.beat)
				if err != nil {
					t.Fatalf("beat: %v", err)
				}
				if res.Detail != "200 ok" {
					t.Errorf("detail = %q", res.Detail)
				}
				push := lastPush(t, s)
				if push.Method != http.MethodGet || push.Status != tt.wantStatus || push.Msg != tt.wantMsg || push.Query.Has("ping") {
					t.Errorf("push = %s status=%q msg=%q query=%v; want GET status=%q msg=%q, no ping",
						push.Method, push.Status, push.Msg, push.Query, tt.wantStatus, tt.wantMsg)
				}
				if !strings.HasPrefix(push.UserAgent, "heartbeat/") {
					t.Errorf("user agent = %q", push.UserAgent)
				}
				if b := s.Beats(token); len(b) != 1 || b[0].Status != tt.wantStored || b[0].Msg != tt.wantMsg {
					t.Errorf("stored %+v", b)
				}
			})
		}
	}
}

func TestUnsupportedSignals(t *testing.T) {
	for _, sig := range []sdk.Signal{sdk.SignalStart, sdk.SignalLog, sdk.SignalUnspecified} {
		t.Run(sig.String(), func(t *testing.T) {
			s := kumafake.New(t, kumafake.Options{})
			token := s.AddMonitor()
			p := dial(t)
			p.mustConfigure(conf{"push_url": s.PushURL(token)})
			_, err := p.beat(sdk.Beat{Signal: sig, Message: "started"})
			if sdk.KindOf(err) != sdk.KindPermanent {
				t.Fatalf("error %v of kind %v, want permanent", err, sdk.KindOf(err))
			}
			if !strings.Contains(err.Error(), sig.String()+" signal") || !strings.Contains(err.Error(), "only know up and down") {
				t.Errorf("error %q does not explain", err)
			}
			if n := len(s.Pushes()); n != 0 {
				t.Errorf("sent %d pushes, want none", n)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	long := strings.Repeat("é", maxMsgRunes+50)
	tests := []struct {
		name    string
		signal  sdk.Signal
		message string
		want    string
	}{
		{"reserved characters", sdk.SignalSuccess, "a b&c=d+e#f%g?h/i", "a b&c=d+e#f%g?h/i"},
		{"utf-8", sdk.SignalFail, "café ✓ 日本語 🚀", "café ✓ 日本語 🚀"},
		{"made one line", sdk.SignalFail, "line one\nline two\r\n\tend", "line one line two   end"},
		{"trimmed", sdk.SignalSuccess, "  ok now  ", "ok now"},
		{"blank success is OK", sdk.SignalSuccess, " \n ", "OK"},
		{"blank fail is not OK", sdk.SignalFail, "\t", "check failed"},
		{"exactly the cap", sdk.SignalSuccess, strings.Repeat("x", maxMsgRunes), strings.Repeat("x", maxMsgRunes)},
		{"over the cap", sdk.SignalSuccess, strings.Repeat("x", maxMsgRunes+1), strings.Repeat("x", maxMsgRunes-1) + "…"},
		{"over the cap, multi-byte", sdk.SignalFail, long, string([]rune(long)[:maxMsgRunes-1]) + "…"},
	}
	s := kumafake.New(t, kumafake.Options{})
	token := s.AddMonitor()
	p := dial(t)
	p.mustConfigure(conf{"push_url": s.PushURL(token)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := p.beat(sdk.Beat{Signal: tt.signal, Message: tt.message}); err != nil {
				t.Fatal(err)
			}
			push := lastPush(t, s)
			if push.Msg != tt.want {
				t.Errorf("msg = %q, want %q", push.Msg, tt.want)
			}
			if n := utf8.RuneCountInString(push.Msg); n > maxMsgRunes {
				t.Errorf("msg has %d characters, cap is %d", n, maxMsgRunes)
			}
			if strings.Contains(push.RawQuery, "+") {
				t.Errorf("query %q has a '+': spaces must be %%20, a plus %%2B", push.RawQuery)
			}
			if b := s.Beats(token); b[len(b)-1].Msg != tt.want {
				t.Errorf("stored msg = %q", b[len(b)-1].Msg)
			}
		})
	}
	// The request line of the longest message stays within common proxy limits.
	if _, err := p.beat(sdk.Beat{Signal: sdk.SignalFail, Message: strings.Repeat("🚀", 1000)}); err != nil {
		t.Fatal(err)
	}
	if n := len(lastPush(t, s).RawQuery); n > 6000 {
		t.Errorf("query is %d bytes long", n)
	}
}

// The contract cannot carry invalid UTF-8, so this is checked directly.
func TestMessageInvalidUTF8(t *testing.T) {
	if got := message("bad \xff byte", "OK"); got != "bad \uFFFD byte" {
		t.Errorf("message = %q", got)
	}
}

func TestPing(t *testing.T) {
	tests := []struct {
		latency time.Duration
		want    string // "" means no ping parameter
	}{
		{0, ""},
		{-time.Second, ""},
		{400 * time.Nanosecond, ""}, // rounds to 0 ms, which Uptime Kuma stores as no ping
		{500 * time.Nanosecond, "0.001"},
		{time.Microsecond, "0.001"},
		{1500 * time.Microsecond, "1.5"},
		{123456789 * time.Nanosecond, "123.457"},
		{2 * time.Second, "2000"},
		{90 * time.Minute, "5400000"},
		{maxPingMS * time.Millisecond, "100000000000"},
		{maxPingMS*time.Millisecond + time.Millisecond, ""}, // 2.x would refuse it
	}
	s := kumafake.New(t, kumafake.Options{Version: kumafake.V2})
	token := s.AddMonitor()
	p := dial(t)
	p.mustConfigure(conf{"push_url": s.PushURL(token)})
	for _, tt := range tests {
		t.Run(tt.latency.String(), func(t *testing.T) {
			if _, err := p.beat(sdk.Beat{Signal: sdk.SignalSuccess, CheckLatency: tt.latency}); err != nil {
				t.Fatal(err)
			}
			push := lastPush(t, s)
			if tt.want == "" {
				if push.Query.Has("ping") {
					t.Errorf("sent ping=%q, want no ping", push.Ping)
				}
				return
			}
			if push.Ping != tt.want {
				t.Errorf("ping = %q, want %q", push.Ping, tt.want)
			}
			if push.Beat == nil || push.Beat.Ping == nil || fmt.Sprint(*push.Beat.Ping) == "0" {
				t.Errorf("Uptime Kuma stored no ping: %+v", push.Beat)
			}
		})
	}
}

// kindCase is one answer and what the plugin makes of it.
type kindCase struct {
	name     string
	kind     sdk.Kind
	wantErr  []string // parts of the error; nil for success
	settings func(url, token string) conf
}

func TestResponses(t *testing.T) {
	pushURL := func(base, token string) conf {
		return conf{"push_url": base + "/api/push/" + token + "?status=up&msg=OK&ping="}
	}

	// Answers from a real (fake) Uptime Kuma.
	kuma := []struct {
		kindCase
		version kumafake.Version
		prefix  string
		setup   func(s *kumafake.Server, token string)
	}{
		{kindCase: kindCase{name: "success 1.x"}, version: kumafake.V1},
		{kindCase: kindCase{name: "success 2.x"}, version: kumafake.V2},
		{kindCase: kindCase{name: "monitor deleted", kind: sdk.KindNotFound,
			wantErr: []string{"has no active push monitor", "does not exist or is paused", "Check push_url", `404 "Monitor not found or not active."`}},
			setup: func(s *kumafake.Server, token string) { s.RemoveMonitor(token) }},
		{kindCase: kindCase{name: "monitor paused", kind: sdk.KindNotFound, wantErr: []string{"resume the monitor if it is paused"}},
			version: kumafake.V1, setup: func(s *kumafake.Server, token string) { s.Pause(token) }},
		{kindCase: kindCase{name: "monitor unknown, base_url form", kind: sdk.KindNotFound, wantErr: []string{"Check base_url and token"},
			settings: func(base, token string) conf { return conf{"base_url": base, "token": token} }},
			setup: func(s *kumafake.Server, token string) { s.RemoveMonitor(token) }},
		{kindCase: kindCase{name: "server-side error", kind: sdk.KindTemporary,
			wantErr: []string{"could not record the beat", `404 "SQLITE_BUSY: database is locked"`}},
			setup: func(s *kumafake.Server, _ string) { s.FailNext("SQLITE_BUSY: database is locked") }},
		{kindCase: kindCase{name: "server-side error echoing the token", kind: sdk.KindTemporary, wantErr: []string{"could not record"}},
			setup: func(s *kumafake.Server, token string) { s.FailNext("no row for push_token " + token) }},
		{kindCase: kindCase{name: "missing path prefix: the proxy's 404", kind: sdk.KindPermanent,
			wantErr: []string{"has no Uptime Kuma push route", "a body of type text/plain", "path prefix"}},
			prefix: "/kuma"},
		{kindCase: kindCase{name: "wrong path prefix: the web app's page", kind: sdk.KindPermanent,
			wantErr:  []string{"answered 200 but not with Uptime Kuma's push answer", "a body of type text/html", "base_url and token point at"},
			settings: func(base, token string) conf { return conf{"base_url": base + "/status", "token": token} }}},
	}
	for _, tt := range kuma {
		t.Run(tt.name, func(t *testing.T) {
			s := kumafake.New(t, kumafake.Options{Version: tt.version, Prefix: tt.prefix})
			token := s.AddMonitor()
			if tt.setup != nil {
				tt.setup(s, token)
			}
			if tt.settings == nil {
				tt.settings = pushURL
			}
			checkBeat(t, tt.kindCase, s.URL, token)
		})
	}

	// Answers from something in front of Uptime Kuma, or not Uptime Kuma.
	stub := func(code int, contentType, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if contentType != "" {
				w.Header().Set("Content-Type", contentType)
			}
			w.WriteHeader(code)
			_, _ = io.WriteString(w, strings.ReplaceAll(body, "PATH", r.URL.Path))
		}
	}
	others := []struct {
		kindCase
		handler http.Handler
	}{
		{kindCase{name: "502 from a proxy", kind: sdk.KindTemporary, wantErr: []string{"502 Bad Gateway", "failing or restarting"}},
			stub(502, "text/html", "<h1>502 Bad Gateway</h1>")},
		{kindCase{name: "503", kind: sdk.KindTemporary, wantErr: []string{"503 Service Unavailable"}}, stub(503, "", "")},
		{kindCase{name: "500 with Kuma-like JSON", kind: sdk.KindTemporary, wantErr: []string{"could not record", "500"}},
			stub(500, "application/json", `{"ok":false,"msg":"boom"}`)},
		{kindCase{name: "408", kind: sdk.KindTemporary, wantErr: []string{"408 Request Timeout"}}, stub(408, "", "")},
		{kindCase{name: "429 from a proxy", kind: sdk.KindRateLimited, wantErr: []string{"429", "slow down"}}, stub(429, "", "")},
		{kindCase{name: "401 from a proxy", kind: sdk.KindPermanent, wantErr: []string{"401 Unauthorized", "needs no login"}},
			stub(401, "text/html", "login")},
		{kindCase{name: "403 from a proxy", kind: sdk.KindPermanent, wantErr: []string{"403 Forbidden"}}, stub(403, "", "")},
		{kindCase{name: "invalid ping answer", kind: sdk.KindPermanent, wantErr: []string{"refused the check latency"}},
			stub(404, "application/json; charset=utf-8", `{"ok":false,"msg":"Invalid ping value. Must be between 0 and 100000000000 ms."}`)},
		{kindCase{name: "200 ok false", kind: sdk.KindTemporary, wantErr: []string{"could not record", `"nope"`}},
			stub(200, "application/json", `{"ok":false,"msg":"nope"}`)},
		{kindCase{name: "200 empty", kind: sdk.KindPermanent, wantErr: []string{"answered 200 but not", "an empty body"}}, stub(200, "", "")},
		{kindCase{name: "200 JSON without ok", kind: sdk.KindPermanent, wantErr: []string{"answered 200 but not"}},
			stub(200, "application/json", `{"status":"fine"}`)},
		{kindCase{name: "ok true but 201", kind: sdk.KindPermanent, wantErr: []string{"201 Created"}},
			stub(201, "application/json", `{"ok":true}`)},
		{kindCase{name: "404 page echoing the path", kind: sdk.KindPermanent, wantErr: []string{"has no Uptime Kuma push route", "text/html"}},
			stub(404, "text/html; charset=utf-8", "<pre>Cannot GET PATH</pre>")},
		{kindCase{name: "400", kind: sdk.KindPermanent, wantErr: []string{"400 Bad Request", "not Uptime Kuma's push answer"}},
			stub(400, "text/html", "<pre>Bad Request</pre>")},
		{kindCase{name: "too slow", kind: sdk.KindTemporary, wantErr: []string{"no answer before the timeout"},
			settings: func(base, token string) conf { return conf{"base_url": base, "token": token, "timeout": "100ms"} }},
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			})},
	}
	for _, tt := range others {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			t.Cleanup(srv.Close)
			if tt.settings == nil {
				tt.settings = pushURL
			}
			checkBeat(t, tt.kindCase, srv.URL, secretToken)
		})
	}

	t.Run("redirect on the same server", func(t *testing.T) {
		s := kumafake.New(t, kumafake.Options{})
		token := s.AddMonitor()
		// A reverse proxy that moved Uptime Kuma from /old to /.
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rest, ok := strings.CutPrefix(r.URL.RequestURI(), "/old"); ok {
				http.Redirect(w, r, rest, http.StatusMovedPermanently)
				return
			}
			s.ServeHTTP(w, r)
		}))
		t.Cleanup(proxy.Close)
		checkBeat(t, kindCase{name: "redirect", settings: pushURL}, proxy.URL+"/old", token)
		if push := lastPush(t, s); push.Method != http.MethodGet || push.Status != "up" {
			t.Errorf("push after redirect = %+v", push)
		}
	})

	t.Run("redirect to another host", func(t *testing.T) {
		s := kumafake.New(t, kumafake.Options{})
		token := s.AddMonitor()
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, s.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		}))
		t.Cleanup(proxy.Close)
		checkBeat(t, kindCase{name: "redirect", kind: sdk.KindPermanent, wantErr: []string{"another host", strings.TrimPrefix(s.URL, "http://")}, settings: pushURL}, proxy.URL, token)
		if pushes := s.Pushes(); len(pushes) > 0 {
			t.Errorf("the other host received the token: %+v", pushes)
		}
	})

	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		checkBeat(t, kindCase{kind: sdk.KindTemporary, wantErr: []string{"connection refused"}, settings: pushURL}, srv.URL, secretToken)
	})
}

// checkBeat configures the plugin against base and checks one success beat.
func checkBeat(t *testing.T, tt kindCase, base, token string) {
	t.Helper()
	p := dial(t)
	desc := p.mustConfigure(tt.settings(base, token))
	res, err := p.beat(success())
	for _, shown := range []string{desc, res.Detail, fmt.Sprint(err)} {
		if strings.Contains(shown, token) {
			t.Errorf("the token is shown: %q", shown)
		}
	}
	if tt.wantErr == nil {
		if err != nil {
			t.Fatalf("beat: %v", err)
		}
		if res.Detail != "200 ok" {
			t.Errorf("detail = %q, want 200 ok", res.Detail)
		}
		return
	}
	if err == nil {
		t.Fatalf("beat succeeded (%q), want a %v error", res.Detail, tt.kind)
	}
	if got := sdk.KindOf(err); got != tt.kind {
		t.Errorf("kind = %v, want %v (error: %v)", got, tt.kind, err)
	}
	for _, part := range tt.wantErr {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not say %q", err, part)
		}
	}
}

func TestTLS(t *testing.T) {
	s := kumafake.New(t, kumafake.Options{TLS: true})
	token := s.AddMonitor()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		settings conf
		wantErr  string
	}{
		{"unknown CA", conf{"push_url": s.PushURL(token)}, "certificate"},
		{"ca_file", conf{"push_url": s.PushURL(token), "ca_file": caFile}, ""},
		{"insecure_skip_verify", conf{"base_url": s.URL, "token": token, "insecure_skip_verify": true}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dial(t)
			desc := p.mustConfigure(tt.settings)
			if !strings.HasPrefix(desc, "GET https://") {
				t.Errorf("description = %q", desc)
			}
			res, err := p.beat(fail())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || sdk.KindOf(err) != sdk.KindPermanent {
					t.Fatalf("beat = %v, %v; want a permanent error about the %s", res, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), token) {
					t.Errorf("error shows the token: %v", err)
				}
				return
			}
			if err != nil || res.Detail != "200 ok" {
				t.Fatalf("beat = %v, %v", res, err)
			}
			if push := lastPush(t, s); push.Status != "down" {
				t.Errorf("push = %+v", push)
			}
		})
	}
}

// The token must not show in any log line, error, description or detail,
// whatever happens. Configure is called directly here to see the log.
func TestTokenNeverShown(t *testing.T) {
	var logBuf bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logBuf})

	s := kumafake.New(t, kumafake.Options{Version: kumafake.V1})
	s.AddMonitorWithToken(secretToken)
	var shown []string
	settingsList := []string{
		fmt.Sprintf(`{"push_url": %q}`, s.PushURL(secretToken)),
		fmt.Sprintf(`{"base_url": %q, "token": %q}`, strings.Replace(s.URL, "http://", "http://user:hunter2@", 1), secretToken),
	}
	for _, raw := range settingsList {
		inst, err := target{}.Configure(t.Context(), sdk.ConfigureRequest{Instance: "kuma", Settings: sdk.Settings(raw), Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		shown = append(shown, inst.Describe())
		beats := []sdk.Beat{success(), fail(), {Signal: sdk.SignalStart}, {Signal: sdk.SignalSuccess, CheckLatency: time.Hour * 24 * 365 * 10}}
		run := func() {
			for _, b := range beats {
				res, err := inst.Beat(t.Context(), b)
				shown = append(shown, res.Detail, fmt.Sprint(err))
			}
		}
		run()
		s.FailNext("bad token " + secretToken)
		s.Pause(secretToken)
		run()
		s.Resume(secretToken)
	}
	// Errors from a server that is gone.
	inst, err := target{}.Configure(t.Context(), sdk.ConfigureRequest{Instance: "kuma", Settings: sdk.Settings(settingsList[0]), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = inst.Beat(t.Context(), fail())
	shown = append(shown, fmt.Sprint(err), logBuf.String())

	for _, text := range shown {
		if strings.Contains(text, secretToken) || strings.Contains(text, "hunter2") {
			t.Errorf("a secret is shown: %q", text)
		}
	}
	if !strings.Contains(logBuf.String(), "…1234") {
		t.Errorf("the log does not name the target by its token's hint: %s", logBuf.String())
	}
}
