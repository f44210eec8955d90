package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/betterstack/bsfake"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

const marker = "bytes cut by heartbeat, which sends at most"

// fixture is a fake with one heartbeat and an instance configured for it.
func fixture(t *testing.T, cfg bsfake.Config, extra settingsMap) (*bsfake.Server, string, sdk.Client) {
	t.Helper()
	srv := bsfake.New(t, cfg)
	token := srv.AddHeartbeat(bsfake.NewToken())
	c, _ := mustConfigure(t, merge(settingsMap{"heartbeat_url": srv.HeartbeatURL(token)}, extra))
	return srv, token, c
}

// Each signal and exit code goes to the URL the spec gives it (URL forms,
// Signal mapping).
func TestSignals(t *testing.T) {
	tests := []struct {
		name   string
		beat   sdk.Beat
		suffix string // after the heartbeat URL
		kind   bsfake.Kind
		exit   *int
		status bsfake.Status
	}{
		{"success", sdk.Beat{Signal: sdk.SignalSuccess}, "/0", bsfake.KindSuccess, intp(0), bsfake.Up},
		{"fail without exit code", sdk.Beat{Signal: sdk.SignalFail}, "/fail", bsfake.KindFailure, nil, bsfake.Down},
		{"success without exit code resolves", sdk.Beat{Signal: sdk.SignalSuccess}, "/0", bsfake.KindSuccess, intp(0), bsfake.Up},
		{"fail with exit code 3", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(3)}, "/3", bsfake.KindFailure, intp(3), bsfake.Down},
		{"success with exit code 0 resolves", sdk.Beat{Signal: sdk.SignalSuccess, ExitCode: intp(0)}, "/0", bsfake.KindSuccess, intp(0), bsfake.Up},
		{"fail with exit code 1", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(1)}, "/1", bsfake.KindFailure, intp(1), bsfake.Down},
		{"success with exit code 1 stays a success", sdk.Beat{Signal: sdk.SignalSuccess, ExitCode: intp(1)}, "/0", bsfake.KindSuccess, intp(0), bsfake.Up},
		{"fail with exit code 255", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(255)}, "/255", bsfake.KindFailure, intp(255), bsfake.Down},
		{"fail with exit code 0 stays a failure", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(0)}, "/fail", bsfake.KindFailure, nil, bsfake.Down},
		{"fail with exit code 256 falls back to /fail", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(256)}, "/fail", bsfake.KindFailure, nil, bsfake.Down},
		{"fail with exit code -1 falls back to /fail", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(-1)}, "/fail", bsfake.KindFailure, nil, bsfake.Down},
	}
	srv, token, c := fixture(t, bsfake.Config{}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := beat(t, c, tt.beat)
			if err != nil {
				t.Fatal(err)
			}
			if res.Detail != "200 OK" {
				t.Errorf("detail %q, want 200 OK", res.Detail)
			}
			r, _ := srv.LastRequest()
			if want := bsfake.DefaultPrefix + token + tt.suffix; r.Path != want {
				t.Errorf("requested %s, want %s", r.Path, want)
			}
			if r.Method != http.MethodGet || len(r.Body) != 0 || r.RawQuery != "" {
				t.Errorf("%s with body %q and query %q, want a plain GET", r.Method, r.Body, r.RawQuery)
			}
			if r.Report == nil {
				t.Fatal("nothing stored")
			}
			if r.Report.Kind != tt.kind {
				t.Errorf("stored %s, want %s", r.Report.Kind, tt.kind)
			}
			if (tt.exit == nil) != (r.Report.ExitCode == nil) || tt.exit != nil && *tt.exit != *r.Report.ExitCode {
				t.Errorf("exit code %v, want %v", r.Report.ExitCode, tt.exit)
			}
			if got := srv.Status(token); got != tt.status {
				t.Errorf("heartbeat is %s, want %s", got, tt.status)
			}
			if !strings.HasPrefix(r.UserAgent, "heartbeat/") {
				t.Errorf("User-Agent %q", r.UserAgent)
			}
		})
	}
}

// Better Stack has no start and no log endpoint, and any request counts as
// a heartbeat: a signal the plugin does not list never becomes a request.
func TestUnlistedSignalsSendNothing(t *testing.T) {
	srv, _, c := fixture(t, bsfake.Config{}, nil)
	for _, s := range []sdk.Signal{sdk.SignalStart, sdk.SignalLog} {
		_, err := beat(t, c, sdk.Beat{Signal: s, RunID: "0b6f4e52-3c1a-4d8e-9f27-5a9c1e7d3b40", Message: "checking"})
		if err == nil || sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), "cannot deliver the "+s.String()) {
			t.Errorf("%s: got %s %v, want a permanent error", s, sdk.KindOf(err), err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests reached Better Stack", n)
	}
}

// The message, the duration and the output tail travel as the POST body,
// as the docs' `curl -d "$output"` sends it (spec, Methods and body).
func TestBody(t *testing.T) {
	tests := []struct {
		name string
		beat sdk.Beat
		body string
	}{
		{"message", sdk.Beat{Signal: sdk.SignalFail, Message: "disk full"}, "disk full"},
		{"message, duration and output", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(2), Message: "health check command backup exited with status 2",
			CheckLatency: 1500 * time.Millisecond, Log: []byte("copying...\nerror: disk full\n")},
			"health check command backup exited with status 2\nduration: 1.5s\ncopying...\nerror: disk full\n"},
		{"duration only", sdk.Beat{Signal: sdk.SignalSuccess, CheckLatency: 250*time.Millisecond + 400*time.Microsecond}, "duration: 250ms"},
		{"output only", sdk.Beat{Signal: sdk.SignalFail, Log: []byte("boom\n")}, "boom\n"},
		{"a message on one line", sdk.Beat{Signal: sdk.SignalFail, Message: "two\nlines\x1b[31m"}, "two lines [31m"},
		{"output that is not UTF-8 as is", sdk.Beat{Signal: sdk.SignalFail, Log: []byte{0xff, 0xfe, 'x'}}, "\xff\xfex"},
		{"success with its findings", sdk.Beat{Signal: sdk.SignalSuccess, ExitCode: intp(0), Message: "ok", CheckLatency: 2 * time.Second, Log: []byte("fine\n")},
			"ok\nduration: 2s\nfine\n"},
	}
	srv, _, c := fixture(t, bsfake.Config{}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := beat(t, c, tt.beat); err != nil {
				t.Fatal(err)
			}
			r, _ := srv.LastRequest()
			if r.Method != http.MethodPost {
				t.Errorf("method %s, want POST", r.Method)
			}
			if string(r.Body) != tt.body || r.Report == nil || string(r.Report.Body) != tt.body {
				t.Errorf("sent %q, want %q", r.Body, tt.body)
			}
			if r.ContentLength != int64(len(tt.body)) {
				t.Errorf("Content-Length %d, want %d", r.ContentLength, len(tt.body))
			}
			if r.ContentType != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type %q, want what curl -d sends", r.ContentType)
			}
		})
	}
}

func TestBodyTruncation(t *testing.T) {
	srv, _, c := fixture(t, bsfake.Config{}, nil)
	message := "health check command backup exited with status 1"
	log := []byte("START" + strings.Repeat("0123456789", 20_000) + "THE END")
	if _, err := beat(t, c, sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(1), Message: message, CheckLatency: time.Second, Log: log}); err != nil {
		t.Fatal(err)
	}
	r, _ := srv.LastRequest()
	body := string(r.Body)
	if len(body) > maxBody || len(body) < maxBody-40 {
		t.Errorf("sent %d bytes, want at most and about %d", len(body), maxBody)
	}
	if !strings.HasPrefix(body, message+"\nduration: 1s\n") || !strings.HasSuffix(body, "THE END") || !strings.Contains(body, marker) {
		t.Errorf("body does not keep the message and the end of the output around a marker: %.80q...%.80q", body, body[max(0, len(body)-80):])
	}
}

func TestFitBody(t *testing.T) {
	tests := []struct {
		name   string
		head   string
		log    string
		limit  int
		want   string // exact, when set
		checks func(t *testing.T, got string)
	}{
		{name: "fits", head: "m", log: "log", limit: 5, want: "m\nlog"},
		{name: "fits exactly", head: "abc", limit: 3, want: "abc"},
		{name: "tiny limit: plain cut", head: "message", log: strings.Repeat("x", 100), limit: 10, want: "message\nxx"},
		{name: "cut keeps head and tail", head: "msg", log: "HEAD" + strings.Repeat("y", 1000) + "TAIL", limit: 200, checks: func(t *testing.T, got string) {
			if len(got) > 200 || !strings.HasPrefix(got, "msg\n[…") || !strings.HasSuffix(got, "TAIL") || !strings.Contains(got, marker) {
				t.Errorf("got %q", got)
			}
		}},
		{name: "long head is cut too", head: strings.Repeat("m", 1000), log: "tail", limit: 300, checks: func(t *testing.T, got string) {
			if len(got) > 300 || !strings.HasPrefix(got, "mmm") || !strings.HasSuffix(got, "tail") {
				t.Errorf("got %q", got)
			}
		}},
		{name: "never splits a character", head: strings.Repeat("é", 300), log: strings.Repeat("ü", 300), limit: 301, checks: func(t *testing.T, got string) {
			if len(got) > 301 || !utf8.ValidString(got) {
				t.Errorf("got %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
			}
		}},
		{name: "the marker counts what was cut", head: "m", log: strings.Repeat("x", 1000), limit: 200, checks: func(t *testing.T, got string) {
			head, rest, _ := strings.Cut(got, "\n[… ")
			n, tail, _ := strings.Cut(rest, " bytes cut")
			_, tail, _ = strings.Cut(tail, "…]\n")
			cut, err := strconv.Atoi(n)
			if err != nil || len(head)+cut+len(tail) != len("m\n")+1000 || head != "m" {
				t.Errorf("got %q: kept %d+%d bytes and says %q were cut, of %d", got, len(head), len(tail), n, 1002)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(fitBody(tt.head, []byte(tt.log), tt.limit))
			if tt.want != "" && got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if tt.checks != nil {
				tt.checks(t, got)
			}
		})
	}
}

// TestResponses covers every row of the spec's Responses table, and the
// answers of proxies in front of Better Stack.
func TestResponses(t *testing.T) {
	const success = sdktest.Success
	tests := []struct {
		name     string
		setup    func(srv *bsfake.Server, token string) settingsMap // nil: the heartbeat's URL
		kind     sdk.Kind
		wordings []string
	}{
		{name: "recorded", kind: success, wordings: []string{"200 OK"}},
		{name: "unknown token", setup: func(srv *bsfake.Server, _ string) settingsMap {
			return settingsMap{"heartbeat_url": srv.HeartbeatURL(bsfake.NewToken())}
		}, kind: sdk.KindNotFound, wordings: []string{"Better Stack has no heartbeat with this token", "404 Not Found", "heartbeat_url is wrong"}},
		{name: "deleted heartbeat, by token", setup: func(srv *bsfake.Server, token string) settingsMap {
			srv.SetState(token, bsfake.Deleted)
			return settingsMap{"base_url": srv.BaseURL(), "token": token}
		}, kind: sdk.KindNotFound, wordings: []string{"token is wrong"}},
		{name: "rate limited, Retry-After in seconds", setup: func(srv *bsfake.Server, token string) settingsMap {
			srv.SetState(token, bsfake.RateLimited)
			return nil
		}, kind: sdk.KindRateLimited, wordings: []string{"429 Too Many Requests", "Retry-After 1m0s", "send beats less often"}},
		{name: "rate limited, Retry-After as a date", setup: func(srv *bsfake.Server, token string) settingsMap {
			srv.SetState(token, bsfake.RateLimited)
			// HTTP dates have whole seconds: 30 s more keeps the wait
			// read back above 2h0m whatever the sub-second and the load.
			srv.SetRetryAfter(time.Now().Add(2*time.Hour + 30*time.Second).UTC().Format(http.TimeFormat))
			return nil
		}, kind: sdk.KindRateLimited, wordings: []string{"Retry-After 2h0m", "429"}},
		{name: "rate limited, unreadable Retry-After", setup: func(srv *bsfake.Server, token string) settingsMap {
			srv.SetState(token, bsfake.RateLimited)
			srv.SetRetryAfter("soon")
			return nil
		}, kind: sdk.KindRateLimited, wordings: []string{"answered 429 Too Many Requests) and may not"}},
		{name: "server error", setup: func(srv *bsfake.Server, token string) settingsMap {
			srv.SetState(token, bsfake.Failing)
			return nil
		}, kind: sdk.KindTemporary, wordings: []string{"500 Internal Server Error", "could not take the report now"}},
	}
	for _, status := range []int{408, 502, 503, 504} {
		tests = append(tests, struct {
			name     string
			setup    func(srv *bsfake.Server, token string) settingsMap
			kind     sdk.Kind
			wordings []string
		}{name: "proxy answers " + strconv.Itoa(status), setup: func(srv *bsfake.Server, _ string) settingsMap {
			srv.SetOutage(status)
			return nil
		}, kind: sdk.KindTemporary, wordings: []string{strconv.Itoa(status) + " " + http.StatusText(status)}})
	}
	for _, status := range []int{400, 401, 403, 405, 410, 422, 304} {
		tests = append(tests, struct {
			name     string
			setup    func(srv *bsfake.Server, token string) settingsMap
			kind     sdk.Kind
			wordings []string
		}{name: "proxy answers " + strconv.Itoa(status), setup: func(srv *bsfake.Server, _ string) settingsMap {
			srv.SetOutage(status)
			return nil
		}, kind: sdk.KindPermanent, wordings: []string{strconv.Itoa(status) + " " + http.StatusText(status)}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := bsfake.New(t, bsfake.Config{})
			token := srv.AddHeartbeat(bsfake.NewToken())
			settings := settingsMap{"heartbeat_url": srv.HeartbeatURL(token)}
			if tt.setup != nil {
				if s := tt.setup(srv, token); s != nil {
					settings = s
				}
			}
			c, _ := mustConfigure(t, settings)
			res, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
			sdktest.CheckOutcome(t, res, err, tt.kind, token, tt.wordings...)
			if tt.kind == success {
				return
			}
			if n := len(srv.Reports(token)); n != 0 {
				t.Errorf("%d reports stored", n)
			}
		})
	}
}

// Better Stack documents no answer: any 2xx is success, as its clients
// take it (spec, Responses).
func TestAny2xxIsSuccess(t *testing.T) {
	tests := []struct {
		status int
		body   string
		detail string
	}{
		{200, "", "200 OK"},
		{200, "OK", "200 OK"},
		{201, "Created", "201 Created"},
		{202, "", "202 Accepted"},
		{204, "", "204 No Content"},
		{200, `{"data":{"id":"1"}}`, "200 OK"},
		{200, "<html><body>" + strings.Repeat("x", 500) + "</body></html>", "200 OK"},
	}
	for _, tt := range tests {
		t.Run(tt.detail+" "+tt.body[:min(len(tt.body), 10)], func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			c, _ := mustConfigure(t, settingsMap{"base_url": srv.URL, "token": testToken})
			res, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
			if err != nil || res.Detail != tt.detail {
				t.Errorf("got %q, %v; want %q", res.Detail, err, tt.detail)
			}
		})
	}
}

func TestNetworkErrors(t *testing.T) {
	t.Run("server gone", func(t *testing.T) {
		srv := bsfake.Start(bsfake.Config{})
		url := srv.HeartbeatURL(srv.AddHeartbeat(bsfake.NewToken()))
		srv.Close()
		c, _ := mustConfigure(t, settingsMap{"heartbeat_url": url})
		_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		if err == nil || sdk.KindOf(err) != sdk.KindTemporary || !strings.Contains(err.Error(), "reporting to Better Stack") {
			t.Errorf("got %s %v, want a temporary error", sdk.KindOf(err), err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		srv, _, c := fixture(t, bsfake.Config{}, settingsMap{"timeout": "200ms"})
		srv.SetDelay(20 * time.Second)
		start := time.Now()
		_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		if err == nil || sdk.KindOf(err) != sdk.KindTemporary || !strings.Contains(err.Error(), "timeout") {
			t.Errorf("got %s %v, want a temporary timeout", sdk.KindOf(err), err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("took %s despite a 200ms timeout", d)
		}
	})
}

func TestTLS(t *testing.T) {
	srv := bsfake.New(t, bsfake.Config{TLS: true})
	token := srv.AddHeartbeat(bsfake.NewToken())
	sdktest.RunTLS(t, sdktest.TLS{
		CACertPEM: srv.CACertPEM(),
		Detail:    "200 OK",
		Beat: func(t *testing.T, extra map[string]any) (sdk.Result, error) {
			c, _ := mustConfigure(t, merge(settingsMap{"heartbeat_url": srv.HeartbeatURL(token)}, extra))
			return beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		},
	})
}

// TestSecretsNeverShown collects everything the plugin shows (descriptions,
// details, errors, log lines) across successes and failures, and looks for
// the token in full.
func TestSecretsNeverShown(t *testing.T) {
	srv := bsfake.New(t, bsfake.Config{})
	token := srv.AddHeartbeat(bsfake.NewToken())
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A proxy that quotes the path in its answer.
		status, _ := strconv.Atoi(r.Header.Get("X-Status"))
		if status == 0 {
			status = http.StatusBadGateway
		}
		http.Error(w, "no route to "+r.URL.Path, status)
	}))
	t.Cleanup(echo.Close)
	short := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Echoes the path as a short plain answer, which is quoted.
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(strings.TrimPrefix(r.URL.Path, "/")))
	}))
	t.Cleanup(short.Close)
	gone := bsfake.Start(bsfake.Config{})
	gone.Close()

	var logs bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
	var shown []string
	settings := []settingsMap{
		{"heartbeat_url": srv.HeartbeatURL(token)},
		{"base_url": srv.BaseURL(), "token": token},
		{"heartbeat_url": echo.URL + "/api/v1/heartbeat/" + token},
		{"base_url": short.URL, "token": token},
		{"heartbeat_url": gone.HeartbeatURL(token)},
		{"heartbeat_url": strings.Replace(srv.HeartbeatURL(token), "http://", "https://", 1)}, // TLS to a plain server
		{"heartbeat_url": srv.HeartbeatURL(token), "ca_file": "/nonexistent", "insecure_skip_verify": true},
	}
	for _, s := range settings {
		inst, err := target{}.Configure(context.Background(), sdk.ConfigureRequest{Instance: "bs", Settings: mustJSON(t, s), Logger: logger})
		if err != nil {
			shown = append(shown, err.Error())
			continue
		}
		shown = append(shown, inst.Describe())
		for _, state := range []bsfake.State{bsfake.Active, bsfake.RateLimited, bsfake.Failing, bsfake.Deleted} {
			srv.SetState(token, state)
			for _, b := range []sdk.Beat{
				{Signal: sdk.SignalSuccess},
				{Signal: sdk.SignalFail, ExitCode: intp(3), Message: "m", Log: []byte("out")},
				{Signal: sdk.SignalFail},
				{Signal: sdk.SignalStart},
			} {
				res, err := inst.Beat(context.Background(), b)
				shown = append(shown, res.Detail)
				if err != nil {
					shown = append(shown, err.Error())
				}
			}
		}
	}
	// Configure errors, through the contract.
	for _, s := range []settingsMap{
		{"heartbeat_url": srv.HeartbeatURL(token) + "/fail"},
		{"heartbeat_url": "ftp://x/api/v1/heartbeat/" + token},
		{"heartbeat_url": srv.HeartbeatURL(token) + "?a=1"},
		{"heartbeat_url": srv.HeartbeatURL(token), "token": token},
		{"base_url": srv.HeartbeatURL(token), "token": token},
		{"token": token + "/x"},
		{"heartbeat_url": "https://bad host/api/v1/heartbeat/" + token},
		{"heartbeat_url": "https://" + token + "@uptime.betterstack.com/api/v1/heartbeat/x"},
	} {
		_, _, err := configure(t, s)
		if err == nil {
			t.Fatalf("accepted %v", s)
		}
		shown = append(shown, err.Error())
	}
	shown = append(shown, strings.Split(logs.String(), "\n")...)
	if len(shown) < 100 {
		t.Fatalf("only %d things shown: the test lost its cases", len(shown))
	}
	for _, s := range shown {
		if strings.Contains(s, token) {
			t.Errorf("shows the token: %q", s)
		}
	}
}

func TestConcurrentBeats(t *testing.T) {
	srv, token, c := fixture(t, bsfake.Config{}, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := beat(t, c, sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(i + 1), Log: bytes.Repeat([]byte("x"), 1000)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	codes := map[int]bool{}
	for _, r := range srv.Reports(token) {
		if r.ExitCode != nil {
			codes[*r.ExitCode] = true
		}
	}
	if len(codes) != 8 {
		t.Errorf("stored exit codes %v, want 1 to 8", codes)
	}
}
