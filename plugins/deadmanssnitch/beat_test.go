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

	"github.com/seed-e9b80cf6/heartbeat/plugins/deadmanssnitch/dmsfake"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

// fixture is a fake with one snitch and an instance configured for it.
func fixture(t *testing.T, cfg dmsfake.Config, extra settingsMap) (*dmsfake.Server, string, sdk.Client) {
	t.Helper()
	srv := dmsfake.New(t, cfg)
	token := srv.AddSnitch(dmsfake.NewToken())
	c, _ := mustConfigure(t, merge(settingsMap{"snitch_url": srv.SnitchURL(token)}, extra))
	return srv, token, c
}

func strp(s string) *string { return &s }

// Each signal becomes a check-in with the status the spec gives it
// (Methods and parameters, Signal mapping).
func TestSignals(t *testing.T) {
	tests := []struct {
		name   string
		beat   sdk.Beat
		s      *string // nil: no s
		m      string
		failed bool
	}{
		{"success", sdk.Beat{Signal: sdk.SignalSuccess}, nil, "", false},
		{"success with exit code 0", sdk.Beat{Signal: sdk.SignalSuccess, ExitCode: intp(0)}, strp("0"), "", false},
		{"success with exit code 1 stays a success", sdk.Beat{Signal: sdk.SignalSuccess, ExitCode: intp(1)}, nil, "", false},
		{"success with a message", sdk.Beat{Signal: sdk.SignalSuccess, Message: "backup done"}, nil, "backup done", false},
		{"fail with exit code 3", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(3), Message: "exited with status 3"}, strp("3"), "exited with status 3", true},
		{"fail with exit code 255", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(255)}, strp("255"), "failed", true},
		{"fail without exit code", sdk.Beat{Signal: sdk.SignalFail, Message: "GET http://svc/health answered 503"}, strp("1"), "GET http://svc/health answered 503", true},
		{"fail with exit code 0 stays a failure", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(0)}, strp("1"), "failed", true},
		{"fail with a negative exit code", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(-1)}, strp("-1"), "failed", true},
	}
	srv, token, c := fixture(t, dmsfake.Config{}, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := beat(t, c, tt.beat)
			if err != nil {
				t.Fatal(err)
			}
			if res.Detail != "202 Got it, thanks!" {
				t.Errorf("detail %q", res.Detail)
			}
			r, _ := srv.LastRequest()
			if r.Method != http.MethodGet || r.Path != "/"+token || r.BodyLen != 0 {
				t.Errorf("%s %s with %d body bytes, want GET /<token>", r.Method, r.Path, r.BodyLen)
			}
			if r.CheckIn == nil {
				t.Fatal("nothing stored")
			}
			ci := r.CheckIn
			if (tt.s == nil) != (ci.Status == nil) || tt.s != nil && *tt.s != *ci.Status {
				t.Errorf("s = %v, want %v (query %q)", ci.Status, tt.s, r.RawQuery)
			}
			if _, has := r.Query["m"]; has != (tt.m != "") || ci.Message != tt.m {
				t.Errorf("m = %q, want %q (query %q)", ci.Message, tt.m, r.RawQuery)
			}
			want := dmsfake.Healthy
			if tt.failed {
				want = dmsfake.Errored
			}
			if ci.Failed != tt.failed || srv.State(token) != want {
				t.Errorf("failed %v, state %s; want %v, %s", ci.Failed, srv.State(token), tt.failed, want)
			}
			if !strings.HasPrefix(r.UserAgent, "heartbeat/") {
				t.Errorf("User-Agent %q", r.UserAgent)
			}
			if strings.Contains(r.RawQuery, "+") {
				t.Errorf("query %q encodes spaces as +", r.RawQuery)
			}
		})
	}
}

// Any request is a check-in: a signal the plugin does not list never
// becomes one.
func TestUnlistedSignalsSendNothing(t *testing.T) {
	srv, _, c := fixture(t, dmsfake.Config{}, nil)
	for _, s := range []sdk.Signal{sdk.SignalStart, sdk.SignalLog} {
		_, err := beat(t, c, sdk.Beat{Signal: s, RunID: "0b6f4e52-3c1a-4d8e-9f27-5a9c1e7d3b40", Message: "checking"})
		if err == nil || sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), "cannot deliver the "+s.String()) {
			t.Errorf("%s: got %s %v, want a permanent error", s, sdk.KindOf(err), err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests reached Dead Man's Snitch", n)
	}
}

func TestCheckInMessage(t *testing.T) {
	longOutput := "first line\n" + strings.Repeat("progress...\n", 100) + "error: disk full\n"
	tests := []struct {
		name     string
		message  string
		duration time.Duration
		log      string
		want     string // exact, when set
		checks   func(t *testing.T, got string)
	}{
		{name: "nothing", want: ""},
		{name: "message", message: "backup done", want: "backup done"},
		{name: "message and duration", message: "backup done", duration: 23800 * time.Millisecond, want: "backup done; duration 23.8s"},
		{name: "duration only", duration: 1500*time.Millisecond + 300*time.Microsecond, want: "duration 1.5s"},
		{name: "output only", log: "one\n\ntwo\n", want: "one | two"},
		{name: "all three", message: "exited with status 3", duration: time.Second, log: "copying\nerror: disk full\n",
			want: "exited with status 3; duration 1s; output: copying | error: disk full"},
		{name: "control characters and runs of spaces", message: "a\tb\x1b[31m  c\r\nd", want: "a b [31m c d"},
		{name: "invalid UTF-8", message: "ok \xff", want: "ok \uFFFD"},
		{name: "long output keeps its end", message: "exited with status 1", log: longOutput, checks: func(t *testing.T, got string) {
			if !strings.HasPrefix(got, "exited with status 1; output: …") || !strings.HasSuffix(got, "error: disk full") {
				t.Errorf("got %q", got)
			}
		}},
		{name: "long output alone keeps its end", log: longOutput, checks: func(t *testing.T, got string) {
			if !strings.HasPrefix(got, "…") || !strings.HasSuffix(got, "| error: disk full") {
				t.Errorf("got %q", got)
			}
		}},
		{name: "long message keeps its beginning, no output", message: "START " + strings.Repeat("x", 400), log: "tail", checks: func(t *testing.T, got string) {
			if !strings.HasPrefix(got, "START x") || !strings.HasSuffix(got, "…") || strings.Contains(got, "tail") {
				t.Errorf("got %q", got)
			}
		}},
		{name: "too little room for output", message: strings.Repeat("m", 220), duration: time.Second, log: "tail", checks: func(t *testing.T, got string) {
			if strings.Contains(got, "output") || !strings.HasSuffix(got, "duration 1s") {
				t.Errorf("got %q", got)
			}
		}},
		{name: "multi-byte characters count as one", message: strings.Repeat("é", 200), log: strings.Repeat("ü", 300), checks: func(t *testing.T, got string) {
			if !strings.HasSuffix(got, "üüü") || !strings.Contains(got, "output: …") {
				t.Errorf("got %q", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkInMessage(tt.message, tt.duration, []byte(tt.log))
			if tt.checks == nil && got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if tt.checks != nil {
				tt.checks(t, got)
			}
			if n := utf8.RuneCountInString(got); n > maxMessageRunes || !utf8.ValidString(got) {
				t.Errorf("%d characters (at most %d), valid UTF-8 %v", n, maxMessageRunes, utf8.ValidString(got))
			}
		})
	}
}

// What the plugin sends fits the service's limit: the fake keeps m whole.
func TestMessageFitsOnTheWire(t *testing.T) {
	srv, _, c := fixture(t, dmsfake.Config{}, nil)
	log := []byte(strings.Repeat("ünïcödé line & more = stuff?\n", 500) + "the last line\n")
	if _, err := beat(t, c, sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(2), Message: "health check command backup exited with status 2", CheckLatency: 42 * time.Second, Log: log}); err != nil {
		t.Fatal(err)
	}
	r, _ := srv.LastRequest()
	sent := r.Query.Get("m")
	if sent != r.CheckIn.Message || utf8.RuneCountInString(sent) > dmsfake.MaxMessage {
		t.Errorf("sent %d characters, the service kept %d", utf8.RuneCountInString(sent), utf8.RuneCountInString(r.CheckIn.Message))
	}
	if !strings.HasPrefix(sent, "health check command backup exited with status 2; duration 42s; output: …") || !strings.HasSuffix(sent, "the last line") {
		t.Errorf("m = %q", sent)
	}
	if r.Query.Get("s") != "2" {
		t.Errorf("s = %q", r.Query.Get("s"))
	}
}

// TestResponses covers every row of the spec's Responses table, and the
// answers of proxies in front of the service.
func TestResponses(t *testing.T) {
	const success = sdktest.Success
	tests := []struct {
		name     string
		setup    func(srv *dmsfake.Server, token string) settingsMap // nil: the snitch's URL
		kind     sdk.Kind
		wordings []string
	}{
		{name: "accepted", kind: success, wordings: []string{"202 Got it, thanks!"}},
		{name: "unknown token", setup: func(srv *dmsfake.Server, _ string) settingsMap {
			return settingsMap{"snitch_url": srv.SnitchURL(dmsfake.NewToken())}
		}, kind: sdk.KindNotFound, wordings: []string{"Dead Man's Snitch has no snitch with this token", "404 Not Found", "snitch_url is wrong"}},
		{name: "deleted snitch, by token", setup: func(srv *dmsfake.Server, token string) settingsMap {
			srv.SetMode(token, dmsfake.Deleted)
			return settingsMap{"base_url": srv.BaseURL(), "token": token}
		}, kind: sdk.KindNotFound, wordings: []string{"token is wrong"}},
		{name: "rate limited", setup: func(srv *dmsfake.Server, token string) settingsMap {
			srv.SetMode(token, dmsfake.RateLimited)
			return nil
		}, kind: sdk.KindRateLimited, wordings: []string{"429 Too Many Requests, Retry-After 1m0s", "check in less often"}},
		{name: "rate limited without Retry-After", setup: func(srv *dmsfake.Server, token string) settingsMap {
			srv.SetMode(token, dmsfake.RateLimited)
			srv.SetRetryAfter("")
			return nil
		}, kind: sdk.KindRateLimited, wordings: []string{"answered 429 Too Many Requests) and may not"}},
		{name: "server error", setup: func(srv *dmsfake.Server, token string) settingsMap {
			srv.SetMode(token, dmsfake.Failing)
			return nil
		}, kind: sdk.KindTemporary, wordings: []string{"500 Internal Server Error", "could not take the check-in now"}},
	}
	type row = struct {
		name     string
		setup    func(srv *dmsfake.Server, token string) settingsMap
		kind     sdk.Kind
		wordings []string
	}
	for _, status := range []int{408, 502, 503, 504} {
		tests = append(tests, row{name: "proxy answers " + strconv.Itoa(status), setup: func(srv *dmsfake.Server, _ string) settingsMap {
			srv.SetOutage(status)
			return nil
		}, kind: sdk.KindTemporary, wordings: []string{strconv.Itoa(status) + " " + http.StatusText(status)}})
	}
	for _, status := range []int{400, 401, 403, 405, 410, 422, 304} {
		tests = append(tests, row{name: "proxy answers " + strconv.Itoa(status), setup: func(srv *dmsfake.Server, _ string) settingsMap {
			srv.SetOutage(status)
			return nil
		}, kind: sdk.KindPermanent, wordings: []string{strconv.Itoa(status) + " " + http.StatusText(status)}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := dmsfake.New(t, dmsfake.Config{})
			token := srv.AddSnitch(dmsfake.NewToken())
			settings := settingsMap{"snitch_url": srv.SnitchURL(token)}
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
			if n := len(srv.CheckIns(token)); n != 0 {
				t.Errorf("%d check-ins stored", n)
			}
		})
	}
}

// The official client takes any 2xx as a check-in (spec, Responses).
func TestAny2xxIsSuccess(t *testing.T) {
	tests := []struct {
		status int
		body   string
		detail string
	}{
		{200, "Got it, thanks!", "200 Got it, thanks!"},
		{202, "Got it, thanks!", "202 Got it, thanks!"},
		{204, "", "204 No Content"},
		{200, "<html><body>" + strings.Repeat("x", 500) + "</body></html>", "200 OK"},
	}
	for _, tt := range tests {
		t.Run(tt.detail, func(t *testing.T) {
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
		srv := dmsfake.Start(dmsfake.Config{})
		url := srv.SnitchURL(srv.AddSnitch(dmsfake.NewToken()))
		srv.Close()
		c, _ := mustConfigure(t, settingsMap{"snitch_url": url})
		_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		if err == nil || sdk.KindOf(err) != sdk.KindTemporary || !strings.Contains(err.Error(), "checking in to Dead Man's Snitch") {
			t.Errorf("got %s %v, want a temporary error", sdk.KindOf(err), err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		srv, _, c := fixture(t, dmsfake.Config{}, settingsMap{"timeout": "200ms"})
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
	srv := dmsfake.New(t, dmsfake.Config{TLS: true})
	token := srv.AddSnitch(dmsfake.NewToken())
	sdktest.RunTLS(t, sdktest.TLS{
		CACertPEM: srv.CACertPEM(),
		Detail:    "202 Got it, thanks!",
		Beat: func(t *testing.T, extra map[string]any) (sdk.Result, error) {
			c, _ := mustConfigure(t, merge(settingsMap{"snitch_url": srv.SnitchURL(token)}, extra))
			return beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		},
	})
}

// TestSecretsNeverShown collects everything the plugin shows (descriptions,
// details, errors, log lines) across successes and failures, and looks for
// the token in full.
func TestSecretsNeverShown(t *testing.T) {
	srv := dmsfake.New(t, dmsfake.Config{})
	token := srv.AddSnitch(dmsfake.NewToken())
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A proxy that quotes the URL in its answer.
		http.Error(w, "no route to "+r.URL.String(), http.StatusBadGateway)
	}))
	t.Cleanup(echo.Close)
	short := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Echoes the path as a short plain answer, which is quoted.
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(strings.TrimPrefix(r.URL.Path, "/")))
	}))
	t.Cleanup(short.Close)
	gone := dmsfake.Start(dmsfake.Config{})
	gone.Close()

	var logs bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
	var shown []string
	settings := []settingsMap{
		{"snitch_url": srv.SnitchURL(token)},
		{"base_url": srv.BaseURL(), "token": token},
		{"snitch_url": echo.URL + "/" + token},
		{"base_url": short.URL, "token": token},
		{"snitch_url": gone.SnitchURL(token)},
		{"snitch_url": strings.Replace(srv.SnitchURL(token), "http://", "https://", 1)}, // TLS to a plain server
	}
	for _, s := range settings {
		inst, err := target{}.Configure(context.Background(), sdk.ConfigureRequest{Instance: "dms", Settings: mustJSON(t, s), Logger: logger})
		if err != nil {
			t.Fatalf("configure %v: %v", s, err)
		}
		shown = append(shown, inst.Describe())
		for _, mode := range []dmsfake.Mode{dmsfake.Active, dmsfake.RateLimited, dmsfake.Failing, dmsfake.Deleted} {
			srv.SetMode(token, mode)
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
		{"snitch_url": srv.SnitchURL(token) + "?m=x"},
		{"snitch_url": "ftp://nosnch.in/" + token},
		{"snitch_url": srv.SnitchURL(token) + "#frag"},
		{"snitch_url": srv.SnitchURL(token), "token": token},
		{"base_url": "https://nosnch.in/" + token, "token": token},
		{"token": token + "/x"},
		{"token": token + "?m=1"},
		{"snitch_url": "https://bad host/" + token},
		{"snitch_url": "https://" + token + "@nosnch.in/x"},
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
	srv, token, c := fixture(t, dmsfake.Config{}, nil)
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
	codes := map[string]bool{}
	for _, ci := range srv.CheckIns(token) {
		if ci.Status != nil {
			codes[*ci.Status] = true
		}
	}
	if len(codes) != 8 {
		t.Errorf("stored statuses %v, want 1 to 8", codes)
	}
}
