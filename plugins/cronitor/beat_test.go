package main

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seed-e9b80cf6/heartbeat/plugins/cronitor/cronitorfake"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

const runID = "0b6f4e52-3c1a-4d8e-9f27-5a9c1e7d3b40"

// want is what the fake must have stored for a beat.
type want struct {
	state    string
	series   string
	status   *int
	duration float64 // seconds; -1 for no duration metric
	message  string
}

func TestSignals(t *testing.T) {
	srv := cronitorfake.New(t, cronitorfake.Config{})
	srv.AddKey(testKey, true)
	srv.AddMonitor("nightly")
	tests := []struct {
		name      string
		heartbeat bool   // monitor_type heartbeat
		success   string // success_state
		beat      sdk.Beat
		want      want
	}{
		{name: "job: plain success", beat: sdk.Beat{Signal: sdk.SignalSuccess},
			want: want{state: "complete", duration: -1}},
		{name: "job: start", beat: sdk.Beat{Signal: sdk.SignalStart, RunID: runID},
			want: want{state: "run", series: runID, duration: -1}},
		{name: "job: success of a run", beat: sdk.Beat{Signal: sdk.SignalSuccess, RunID: runID, ExitCode: intp(0), CheckLatency: 1500 * time.Millisecond, Message: "check passed"},
			want: want{state: "complete", series: runID, status: intp(0), duration: 1.5, message: "check passed"}},
		{name: "job: fail with exit code, message and output", beat: sdk.Beat{Signal: sdk.SignalFail, RunID: runID, ExitCode: intp(3), CheckLatency: 2*time.Second + 345*time.Millisecond, Message: "command exited with status 3", Log: []byte("out\nerr: disk full\n")},
			want: want{state: "fail", series: runID, status: intp(3), duration: 2.345, message: "command exited with status 3\nout\nerr: disk full"}},
		{name: "job: fail without anything", beat: sdk.Beat{Signal: sdk.SignalFail},
			want: want{state: "fail", duration: -1}},
		{name: "job: negative exit code is sent as is", beat: sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(-1)},
			want: want{state: "fail", status: intp(-1), duration: -1}},
		{name: "job: start carries no exit code nor duration", beat: sdk.Beat{Signal: sdk.SignalStart, RunID: runID, ExitCode: intp(2), CheckLatency: time.Second},
			want: want{state: "run", series: runID, duration: -1}},
		{name: "job: a sub-millisecond duration", beat: sdk.Beat{Signal: sdk.SignalSuccess, CheckLatency: 1400 * time.Microsecond},
			want: want{state: "complete", duration: 0.001}},
		{name: "heartbeat: success sends no state", heartbeat: true, beat: sdk.Beat{Signal: sdk.SignalSuccess},
			want: want{state: "", duration: -1}},
		{name: "heartbeat: success state tick", heartbeat: true, success: "tick", beat: sdk.Beat{Signal: sdk.SignalSuccess},
			want: want{state: "tick", duration: -1}},
		{name: "heartbeat: success state ok", heartbeat: true, success: "ok", beat: sdk.Beat{Signal: sdk.SignalSuccess, RunID: runID, CheckLatency: time.Second},
			want: want{state: "ok", series: runID, duration: 1}},
		{name: "heartbeat: fail", heartbeat: true, beat: sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(1), Message: "down"},
			want: want{state: "fail", status: intp(1), duration: -1, message: "down"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := settingsMap{"base_url": srv.BaseURL(), "api_key": testKey, "monitor": "nightly", "environment": "production", "host": "web-1"}
			if tt.heartbeat {
				s["monitor_type"] = "heartbeat"
			}
			if tt.success != "" {
				s["success_state"] = tt.success
			}
			c, _ := mustConfigure(t, s)
			res, err := beat(t, c, tt.beat)
			if err != nil {
				t.Fatal(err)
			}
			if res.Detail != "200 OK" {
				t.Errorf("detail %q, want 200 OK", res.Detail)
			}
			r, _ := srv.LastRequest()
			if r.Method != http.MethodGet || len(r.Body) != 0 || r.ContentLength > 0 {
				t.Errorf("sent %s with %d bytes of body, want GET without body", r.Method, len(r.Body))
			}
			if r.Path != "/p/"+testKey+"/nightly" {
				t.Errorf("path %s", r.Path)
			}
			if !strings.HasPrefix(r.UserAgent, "heartbeat/") {
				t.Errorf("User-Agent %q", r.UserAgent)
			}
			if strings.Contains(r.RawQuery, "+") {
				t.Errorf("query %q encodes spaces as +", r.RawQuery)
			}
			e := r.Event
			if e == nil {
				t.Fatal("nothing stored")
			}
			checkEvent(t, *e, tt.want)
			if e.Host != "web-1" || e.Env != "production" {
				t.Errorf("host %q env %q", e.Host, e.Env)
			}
			if _, has := r.Query["state"]; has != (tt.want.state != "") {
				t.Errorf("query %v: state present %v, want %v", r.Query, has, tt.want.state != "")
			}
		})
	}
}

func checkEvent(t *testing.T, e cronitorfake.Event, w want) {
	t.Helper()
	if e.State != w.state || e.Series != w.series || e.Message != w.message {
		t.Errorf("stored state %q series %q message %q\nwant   state %q series %q message %q", e.State, e.Series, e.Message, w.state, w.series, w.message)
	}
	if (e.StatusCode == nil) != (w.status == nil) || w.status != nil && *e.StatusCode != *w.status {
		t.Errorf("status_code %v, want %v", e.StatusCode, w.status)
	}
	d, has := e.Duration()
	switch {
	case w.duration < 0 && has:
		t.Errorf("duration %v sent, want none", d)
	case w.duration >= 0 && (!has || math.Abs(d-w.duration) > 1e-9):
		t.Errorf("duration %v (sent %v), want %v", d, has, w.duration)
	}
}

// A heartbeat monitor has no runs: a start is answered without a request.
func TestHeartbeatMonitorSkipsStart(t *testing.T) {
	srv := cronitorfake.New(t, cronitorfake.Config{})
	srv.AddKey(testKey, true)
	c, _ := mustConfigure(t, settingsMap{"base_url": srv.BaseURL(), "api_key": testKey, "monitor": "hb", "monitor_type": "heartbeat"})
	res, err := beat(t, c, sdk.Beat{Signal: sdk.SignalStart, RunID: runID})
	if err != nil || !strings.Contains(res.Detail, "not sent") {
		t.Errorf("got %q, %v; want a result saying it was not sent", res.Detail, err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

// The core never sends log (Info does not list it); if it did, nothing
// would be sent and the error would say why.
func TestLogSignalRefused(t *testing.T) {
	srv := cronitorfake.New(t, cronitorfake.Config{})
	c, _ := mustConfigure(t, settingsMap{"base_url": srv.BaseURL(), "api_key": testKey, "monitor": "m"})
	_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalLog, Log: []byte("x")})
	if err == nil || sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), "no log-only event") {
		t.Errorf("got %s %v", sdk.KindOf(err), err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
}

// The run id is the series of a start and the finish that ends it, so
// Cronitor pairs them even when runs overlap.
func TestRunIDPairsStartAndFinish(t *testing.T) {
	srv := cronitorfake.New(t, cronitorfake.Config{})
	srv.AddKey(testKey, true)
	c, _ := mustConfigure(t, settingsMap{"base_url": srv.BaseURL(), "api_key": testKey, "monitor": "job"})
	long := strings.Repeat("run id with spaces ", 10)
	// Two overlapping runs, then one with an odd run id.
	steps := []struct {
		signal sdk.Signal
		id     string
	}{
		{sdk.SignalStart, runID}, {sdk.SignalStart, "r2"}, {sdk.SignalFail, "r2"}, {sdk.SignalSuccess, runID},
		{sdk.SignalStart, long}, {sdk.SignalFail, long},
	}
	for _, s := range steps {
		if _, err := beat(t, c, sdk.Beat{Signal: s.signal, RunID: s.id}); err != nil {
			t.Fatal(err)
		}
	}
	runs := srv.Runs("job")
	if len(runs) != 3 {
		t.Fatalf("%d runs, want 3: %+v", len(runs), runs)
	}
	wants := []struct{ series, end string }{{runID, "complete"}, {"r2", "fail"}, {series(long), "fail"}}
	for i, w := range wants {
		r := runs[i]
		if r.Series != w.series || r.End == nil || r.End.State != w.end {
			t.Errorf("run %d: series %q end %+v, want series %q ended by %s", i, r.Series, r.End, w.series, w.end)
		}
	}
	if s := series(long); len(s) > maxSeries || strings.ContainsAny(s, " ") || s != series(long) {
		t.Errorf("series of a long run id: %q", s)
	}
}

func TestFitMessage(t *testing.T) {
	tests := []struct {
		name    string
		message string
		log     string
		limit   int
		want    string // exact, when set
		checks  func(t *testing.T, got string)
	}{
		{name: "message only", message: "check failed", limit: 100, want: "check failed"},
		{name: "log only, final newline dropped", log: "a\nb\n", limit: 100, want: "a\nb"},
		{name: "message then log", message: "m", log: "out", limit: 100, want: "m\nout"},
		{name: "nothing", limit: 100, want: ""},
		{name: "control characters", message: "a\x00b\nc", log: "x\r\ny\x1b[0m\tz", limit: 100, want: "a b c\nx\ny [0m\tz"},
		{name: "invalid UTF-8", log: "\xff\xfeok", limit: 100, want: "\uFFFDok"},
		{name: "tiny limit: plain cut", message: "message", log: strings.Repeat("x", 100), limit: 10, want: "message\nxx"},
		{name: "keeps the message and the end of the log", message: "job failed", log: "START" + strings.Repeat("0123456789", 500) + "THE END", limit: 1000, checks: func(t *testing.T, got string) {
			if len(got) > 1000 || len(got) < 950 || !strings.HasPrefix(got, "job failed\n[… ") || !strings.HasSuffix(got, "THE END") || !strings.Contains(got, "bytes cut by heartbeat") {
				t.Errorf("got %d bytes: %.60q … %.60q", len(got), got, got[max(0, len(got)-60):])
			}
		}},
		{name: "a long message is cut too", message: strings.Repeat("m", 3000), log: "tail", limit: 1000, checks: func(t *testing.T, got string) {
			if len(got) > 1000 || !strings.HasPrefix(got, "mmm") || !strings.HasSuffix(got, "tail") {
				t.Errorf("got %d bytes: %.60q … %.60q", len(got), got, got[max(0, len(got)-60):])
			}
		}},
		{name: "never splits a character", message: strings.Repeat("é", 700), log: strings.Repeat("ü", 700), limit: 1000, checks: func(t *testing.T, got string) {
			if len(got) > 1000 || !utf8.ValidString(got) {
				t.Errorf("got %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
			}
		}},
		{name: "the marker counts what was cut", message: "m", log: strings.Repeat("x", 2000), limit: 1000, checks: func(t *testing.T, got string) {
			head, rest, _ := strings.Cut(got, "\n[… ")
			n, tail, _ := strings.Cut(rest, " bytes cut")
			_, tail, _ = strings.Cut(tail, "…]\n")
			cut, err := strconv.Atoi(n)
			if err != nil || head != "m" || len(head)+cut+len(tail) != len("m\n")+2000 {
				t.Errorf("kept %d+%d bytes and says %q were cut, of 2002", len(head), len(tail), n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fitMessage(tt.message, []byte(tt.log), tt.limit)
			if tt.want != "" && got != tt.want || tt.want == "" && tt.checks == nil && got != "" {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if tt.checks != nil {
				tt.checks(t, got)
			}
		})
	}
}

// A long output reaches Cronitor as a message of at most 1000 bytes that
// keeps the end of the output.
func TestMessageTruncatedOnTheWire(t *testing.T) {
	srv := cronitorfake.New(t, cronitorfake.Config{})
	srv.AddKey(testKey, true)
	c, _ := mustConfigure(t, settingsMap{"base_url": srv.BaseURL(), "api_key": testKey, "monitor": "m"})
	log := []byte("START" + strings.Repeat("ünïcødé ", 2000) + "exit status 3")
	if _, err := beat(t, c, sdk.Beat{Signal: sdk.SignalFail, Message: "backup failed", Log: log, ExitCode: intp(3)}); err != nil {
		t.Fatal(err)
	}
	r, _ := srv.LastRequest()
	msg := r.Query.Get("message")
	if len(msg) > maxMessage || !utf8.ValidString(msg) || !strings.HasPrefix(msg, "backup failed\n") || !strings.HasSuffix(msg, "exit status 3") {
		t.Errorf("message of %d bytes: %.60q … %.60q", len(msg), msg, msg[max(0, len(msg)-60):])
	}
	if r.Event == nil || r.Event.Message != msg {
		t.Error("the fake did not store the message as sent")
	}
	// Percent-encoded, the URL stays well within common limits (8 KiB).
	if n := len(r.RawQuery); n > 6000 {
		t.Errorf("query of %d bytes", n)
	}
}

// Cronitor answers 200 to a wrong key or a key without the telemetry
// scope and drops the event: heartbeat cannot tell, and says so only in
// the docs. The test pins that the fake, like Cronitor, stores nothing.
func TestWrongKeyLooksDelivered(t *testing.T) {
	srv := cronitorfake.New(t, cronitorfake.Config{})
	srv.AddKey(testKey, true)
	noScope := srv.AddKey(cronitorfake.NewKey(), false)
	for _, key := range []string{cronitorfake.NewKey(), noScope} {
		c, _ := mustConfigure(t, settingsMap{"base_url": srv.BaseURL(), "api_key": key, "monitor": "m"})
		res, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		if err != nil || res.Detail != "200 OK" {
			t.Errorf("got %q, %v", res.Detail, err)
		}
	}
	if n := len(srv.Events("")); n != 0 {
		t.Errorf("%d events stored with wrong keys", n)
	}
}

// An unknown monitor key creates the monitor.
func TestUnknownMonitorIsCreated(t *testing.T) {
	srv := cronitorfake.New(t, cronitorfake.Config{})
	srv.AddKey(testKey, true)
	c, _ := mustConfigure(t, settingsMap{"ping_url": srv.PingURL(testKey, "brand-new")})
	for range 2 {
		if _, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess}); err != nil {
			t.Fatal(err)
		}
	}
	evs := srv.Events("brand-new")
	if len(evs) != 2 || !evs[0].Created || evs[1].Created {
		t.Errorf("events %+v, want the first to create the monitor", evs)
	}
}

// TestResponses covers the spec's answers and those of proxies in front
// of Cronitor.
func TestResponses(t *testing.T) {
	const success = sdktest.Success
	type row struct {
		name     string
		setup    func(srv *cronitorfake.Server)
		kind     sdk.Kind
		wordings []string
	}
	tests := []row{
		{"recorded", func(*cronitorfake.Server) {}, success, []string{"200 OK"}},
		{"rate limited with Retry-After", func(s *cronitorfake.Server) { s.SetRateLimited("30") }, sdk.KindRateLimited, []string{"rate limiting", "429 Too Many Requests", "Retry-After 30s", "less often"}},
		{"rate limited with an HTTP date", func(s *cronitorfake.Server) { s.SetRateLimited("Wed, 21 Oct 2037 07:28:00 GMT") }, sdk.KindRateLimited, []string{"Retry-After 2037-10-21T07:28:00Z"}},
		{"rate limited without Retry-After", func(s *cronitorfake.Server) { s.SetRateLimited("") }, sdk.KindRateLimited, []string{"429"}},
		{"rate limited with a hostile Retry-After", func(s *cronitorfake.Server) { s.SetRateLimited(strings.Repeat("9", 500)) }, sdk.KindRateLimited, []string{"429"}},
	}
	for _, status := range []int{408, 500, 502, 503, 504} {
		tests = append(tests, row{"proxy answers " + strconv.Itoa(status), func(s *cronitorfake.Server) { s.SetOutage(status) }, sdk.KindTemporary,
			[]string{"could not take the event now", strconv.Itoa(status) + " " + http.StatusText(status)}})
	}
	for status, wording := range map[int]string{
		400: "Cronitor refused the event", 405: "Cronitor refused the event", 410: "Cronitor refused the event",
		401: "even with a wrong key", 403: "even with a wrong key", 407: "even with a wrong key",
		404: "no Cronitor telemetry endpoint there",
	} {
		tests = append(tests, row{"answer " + strconv.Itoa(status), func(s *cronitorfake.Server) { s.SetOutage(status) }, sdk.KindPermanent,
			[]string{wording, strconv.Itoa(status) + " " + http.StatusText(status)}})
	}
	for _, status := range []int{201, 202, 204} {
		tests = append(tests, row{"answer " + strconv.Itoa(status), func(s *cronitorfake.Server) { s.SetOutage(status) }, success, []string{strconv.Itoa(status)}})
	}
	tests = append(tests, row{"304 is not Cronitor's", func(s *cronitorfake.Server) { s.SetOutage(304) }, sdk.KindPermanent, []string{"not an answer of Cronitor's telemetry endpoint"}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := cronitorfake.New(t, cronitorfake.Config{})
			srv.AddKey(testKey, true)
			tt.setup(srv)
			c, _ := mustConfigure(t, settingsMap{"base_url": srv.BaseURL(), "api_key": testKey, "monitor": "m"})
			res, err := beat(t, c, sdk.Beat{Signal: sdk.SignalFail, RunID: runID})
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("%d requests, want 1 (the core retries, not the plugin)", n)
			}
			sdktest.CheckOutcome(t, res, err, tt.kind, testKey, tt.wordings...)
			if tt.kind == success {
				return
			}
			if len(err.Error()) > 600 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
		})
	}
}

func TestTLS(t *testing.T) {
	srv := cronitorfake.New(t, cronitorfake.Config{TLS: true, PathPrefix: "/cronitor"})
	srv.AddKey(testKey, true)
	sdktest.RunTLS(t, sdktest.TLS{
		CACertPEM: srv.CACertPEM(),
		Detail:    "200 OK",
		Beat: func(t *testing.T, extra map[string]any) (sdk.Result, error) {
			c, _ := mustConfigure(t, merge(settingsMap{"ping_url": srv.PingURL(testKey, "m")}, extra))
			return beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		},
		Delivered: func(t *testing.T) {
			if r, _ := srv.LastRequest(); r.Path != "/cronitor/p/"+testKey+"/m" {
				t.Errorf("path %s", r.Path)
			}
		},
	})
}

func TestConcurrentBeats(t *testing.T) {
	srv := cronitorfake.New(t, cronitorfake.Config{})
	srv.AddKey(testKey, true)
	c, _ := mustConfigure(t, settingsMap{"base_url": srv.BaseURL(), "api_key": testKey, "monitor": "m"})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := "run-" + strconv.Itoa(i)
			for _, s := range []sdk.Signal{sdk.SignalStart, sdk.SignalSuccess} {
				if _, err := beat(t, c, sdk.Beat{Signal: s, RunID: id, Log: []byte(strings.Repeat("x", 3000))}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	runs := srv.Runs("m")
	if len(runs) != 8 {
		t.Fatalf("%d runs, want 8", len(runs))
	}
	for _, r := range runs {
		if r.End == nil {
			t.Errorf("run %s has no end", r.Series)
		}
	}
}

// Monitor keys travel as one path segment, whatever characters they hold.
func TestMonitorKeyEscaped(t *testing.T) {
	srv := cronitorfake.New(t, cronitorfake.Config{PathPrefix: "/proxy"})
	srv.AddKey(testKey, true)
	for _, m := range []string{"db backup", "a?b#c%d&e=f", "ünïcødé", "x+y", "..x"} {
		t.Run(m, func(t *testing.T) {
			c, _ := mustConfigure(t, settingsMap{"base_url": srv.BaseURL(), "api_key": testKey, "monitor": m})
			if _, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess}); err != nil {
				t.Fatal(err)
			}
			if evs := srv.Events(m); len(evs) != 1 {
				t.Errorf("%d events for %q; monitors %q", len(evs), m, srv.Monitors())
			}
		})
	}
}
