package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/healthchecks/hcfake"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/sdktest"
)

const marker = "bytes cut by heartbeat to fit the server's limit"

func TestSignals(t *testing.T) {
	tests := []struct {
		name   string
		beat   sdk.Beat
		suffix string // after the check's ping URL
		kind   hcfake.Kind
		exit   *int
	}{
		{"success", sdk.Beat{Signal: sdk.SignalSuccess}, "", hcfake.KindSuccess, nil},
		{"start", sdk.Beat{Signal: sdk.SignalStart}, "/start", hcfake.KindStart, nil},
		{"fail", sdk.Beat{Signal: sdk.SignalFail}, "/fail", hcfake.KindFail, nil},
		{"log", sdk.Beat{Signal: sdk.SignalLog}, "/log", hcfake.KindLog, nil},
		{"success with exit code 0", sdk.Beat{Signal: sdk.SignalSuccess, ExitCode: intp(0)}, "/0", hcfake.KindSuccess, intp(0)},
		{"fail with exit code 3", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(3)}, "/3", hcfake.KindFail, intp(3)},
		{"success with exit code 1: the code wins", sdk.Beat{Signal: sdk.SignalSuccess, ExitCode: intp(1)}, "/1", hcfake.KindFail, intp(1)},
		{"fail with exit code 255", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(255)}, "/255", hcfake.KindFail, intp(255)},
		{"fail with exit code 256 falls back to /fail", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(256)}, "/fail", hcfake.KindFail, nil},
		{"fail with exit code -1 falls back to /fail", sdk.Beat{Signal: sdk.SignalFail, ExitCode: intp(-1)}, "/fail", hcfake.KindFail, nil},
		{"start ignores the exit code", sdk.Beat{Signal: sdk.SignalStart, ExitCode: intp(2)}, "/start", hcfake.KindStart, nil},
		{"log ignores the exit code", sdk.Beat{Signal: sdk.SignalLog, ExitCode: intp(2)}, "/log", hcfake.KindLog, nil},
	}
	srv := hcfake.New(t, hcfake.Config{})
	id := srv.AddCheck(hcfake.NewUUID())
	slugID := srv.AddSlugCheck(testPingKey, "backup")
	forms := []struct {
		name     string
		settings settingsMap
		check    string
		path     string
	}{
		{"uuid", settingsMap{"ping_url": srv.PingURL(id)}, id, "/ping/" + id},
		{"slug", settingsMap{"base_url": srv.BaseURL(), "ping_key": testPingKey, "slug": "backup"}, slugID, "/ping/" + testPingKey + "/backup"},
	}
	for _, form := range forms {
		c, _ := mustConfigure(t, form.settings)
		for _, tt := range tests {
			t.Run(form.name+"/"+tt.name, func(t *testing.T) {
				res, err := beat(t, c, tt.beat)
				if err != nil {
					t.Fatal(err)
				}
				if res.Detail != "200 OK" {
					t.Errorf("detail %q, want 200 OK", res.Detail)
				}
				r, _ := srv.LastRequest()
				if r.Path != form.path+tt.suffix {
					t.Errorf("pinged %s, want %s", r.Path, form.path+tt.suffix)
				}
				if r.Ping == nil {
					t.Fatal("nothing stored")
				}
				if r.Ping.Check != form.check || r.Ping.Kind != tt.kind {
					t.Errorf("stored %s for %s, want %s for %s", r.Ping.Kind, r.Ping.Check, tt.kind, form.check)
				}
				if (tt.exit == nil) != (r.Ping.ExitStatus == nil) || tt.exit != nil && *tt.exit != *r.Ping.ExitStatus {
					t.Errorf("exit status %v, want %v", r.Ping.ExitStatus, tt.exit)
				}
				if !strings.HasPrefix(r.UserAgent, "heartbeat/") {
					t.Errorf("User-Agent %q", r.UserAgent)
				}
			})
		}
	}
}

func TestMethodsAndBody(t *testing.T) {
	tests := []struct {
		name   string
		method string // setting
		beat   sdk.Beat
		want   string // method sent
		body   string // body sent and stored
	}{
		{"no body: GET", "", sdk.Beat{Signal: sdk.SignalSuccess}, "GET", ""},
		{"message: POST", "", sdk.Beat{Signal: sdk.SignalFail, Message: "disk full"}, "POST", "disk full"},
		{"log only: POST", "", sdk.Beat{Signal: sdk.SignalLog, Log: []byte("line 1\nline 2\n")}, "POST", "line 1\nline 2\n"},
		{"message then log", "", sdk.Beat{Signal: sdk.SignalFail, Message: "check failed", Log: []byte("exit status 2\n")}, "POST", "check failed\nexit status 2\n"},
		{"non-UTF-8 log as is", "", sdk.Beat{Signal: sdk.SignalLog, Log: []byte{0xff, 0xfe, 'x'}}, "POST", "\xff\xfex"},
		{"GET drops the body", "GET", sdk.Beat{Signal: sdk.SignalFail, Message: "disk full"}, "GET", ""},
		{"HEAD drops the body", "HEAD", sdk.Beat{Signal: sdk.SignalFail, Message: "disk full"}, "HEAD", ""},
		{"head in lower case", "head", sdk.Beat{Signal: sdk.SignalSuccess}, "HEAD", ""},
		{"POST without body", "POST", sdk.Beat{Signal: sdk.SignalSuccess}, "POST", ""},
		{"post in lower case", "post", sdk.Beat{Signal: sdk.SignalSuccess, Message: "ok"}, "POST", "ok"},
	}
	srv := hcfake.New(t, hcfake.Config{})
	id := srv.AddCheck(hcfake.NewUUID())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := mustConfigure(t, settingsMap{"ping_url": srv.PingURL(id), "method": tt.method})
			res, err := beat(t, c, tt.beat)
			if err != nil {
				t.Fatal(err)
			}
			if res.Detail != "200 OK" {
				t.Errorf("detail %q", res.Detail)
			}
			r, _ := srv.LastRequest()
			if r.Method != tt.want {
				t.Errorf("method %s, want %s", r.Method, tt.want)
			}
			if string(r.Body) != tt.body || string(r.Ping.Body) != tt.body {
				t.Errorf("sent %q, stored %q, want %q", r.Body, r.Ping.Body, tt.body)
			}
			// Without Content-Length the server stores an empty body.
			if r.ContentLength != int64(len(tt.body)) {
				t.Errorf("Content-Length %d, want %d", r.ContentLength, len(tt.body))
			}
			if tt.body != "" && r.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
			}
		})
	}
}

func TestBodyTruncation(t *testing.T) {
	message := "backup check failed"
	log := []byte("START" + strings.Repeat("0123456789", 20_000) + "THE END")
	tests := []struct {
		name  string
		cfg   hcfake.Config
		first int // the limit the first ping is cut to
		then  int // and the next ones, once the server said its limit
	}{
		{"self-hosted: 10,000 until the server says", hcfake.Config{BodyLimit: 500}, 10_000, 500},
		{"self-hosted, larger limit", hcfake.Config{BodyLimit: 150_000}, 10_000, 150_000},
		{"hc-ping.com: 100 kB until the server says", hcfake.Config{Flavor: hcfake.Hosted, PathPrefix: "/", BodyLimit: 2_000}, 100_000, 2_000},
		{"old server without the header: 10,000", hcfake.Config{Flavor: hcfake.Legacy}, 10_000, 10_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hcfake.New(t, tt.cfg)
			id := srv.AddCheck(hcfake.NewUUID())
			ping := srv.PingURL(id)
			if tt.cfg.Flavor == hcfake.Hosted {
				// The fake runs on 127.0.0.1: pretend it is hc-ping.com.
				ping = "http://hc-ping.com/" + id
			}
			var inst sdk.Instance
			if tt.cfg.Flavor == hcfake.Hosted {
				inst = hostedInstance(t, srv, ping)
			} else {
				c, _ := mustConfigure(t, settingsMap{"ping_url": ping})
				inst = clientInstance{c}
			}
			for i, limit := range []int{tt.first, tt.then} {
				if _, err := inst.Beat(context.Background(), sdk.Beat{Signal: sdk.SignalFail, Message: message, Log: log}); err != nil {
					t.Fatal(err)
				}
				r, _ := srv.LastRequest()
				body := string(r.Body)
				if len(body) > limit || len(body) < limit-20 {
					t.Errorf("ping %d: sent %d bytes, want at most and about %d", i+1, len(body), limit)
				}
				if !strings.HasPrefix(body, message+"\n") || !strings.HasSuffix(body, "THE END") || !strings.Contains(body, marker) {
					t.Errorf("ping %d: body does not keep the message and the end of the log around a marker: %.80q...%.80q", i+1, body, body[max(0, len(body)-80):])
				}
			}
		})
	}
}

// hostedInstance is an instance configured for hc-ping.com whose requests
// reach the fake instead. It skips the gRPC layer: the HTTP client has to be
// swapped.
func hostedInstance(t *testing.T, srv *hcfake.Server, ping string) sdk.Instance {
	t.Helper()
	cfg, err := parseSettings(mustJSON(t, settingsMap{"ping_url": ping}), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.hosted {
		t.Fatal("not recognised as hc-ping.com")
	}
	addr := strings.TrimPrefix(srv.URL(), "http://")
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return newInstance(cfg, &http.Client{Transport: transport, Timeout: 5 * time.Second}, hclog.NewNullLogger())
}

func TestFitBody(t *testing.T) {
	tests := []struct {
		name    string
		message string
		log     string
		limit   int
		want    string // exact, when set
		checks  func(t *testing.T, got string)
	}{
		{name: "fits", message: "m", log: "log", limit: 5, want: "m\nlog"},
		{name: "fits exactly", message: "abc", log: "", limit: 3, want: "abc"},
		{name: "tiny limit: plain cut", message: "message", log: strings.Repeat("x", 100), limit: 10, want: "message\nxx"},
		{name: "cut keeps head and tail", message: "msg", log: "HEAD" + strings.Repeat("y", 1000) + "TAIL", limit: 200, checks: func(t *testing.T, got string) {
			if len(got) > 200 || !strings.HasPrefix(got, "msg\n[…") || !strings.HasSuffix(got, "TAIL") || !strings.Contains(got, marker) {
				t.Errorf("got %q", got)
			}
		}},
		{name: "no message: marker then tail", log: strings.Repeat("z", 1000) + "END", limit: 150, checks: func(t *testing.T, got string) {
			if len(got) > 150 || !strings.Contains(got, marker) || !strings.HasSuffix(got, "END") {
				t.Errorf("got %q", got)
			}
		}},
		{name: "long message is cut too", message: strings.Repeat("m", 1000), log: "tail", limit: 300, checks: func(t *testing.T, got string) {
			if len(got) > 300 || !strings.HasPrefix(got, "mmm") || !strings.HasSuffix(got, "tail") {
				t.Errorf("got %q", got)
			}
		}},
		{name: "never splits a character", message: strings.Repeat("é", 300), log: strings.Repeat("ü", 300), limit: 301, checks: func(t *testing.T, got string) {
			if len(got) > 301 || !utf8Valid(got) {
				t.Errorf("got %d bytes, valid UTF-8 %v", len(got), utf8Valid(got))
			}
		}},
		{name: "the marker counts what was cut", message: "m", log: strings.Repeat("x", 1000), limit: 200, checks: func(t *testing.T, got string) {
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
			got := string(fitBody(tt.message, []byte(tt.log), tt.limit))
			if tt.want != "" && got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if tt.checks != nil {
				tt.checks(t, got)
			}
		})
	}
}

func TestRunIDPairsStartAndFinish(t *testing.T) {
	srv := hcfake.New(t, hcfake.Config{})
	id := srv.AddCheck(hcfake.NewUUID())
	c, _ := mustConfigure(t, settingsMap{"ping_url": srv.PingURL(id)})
	run := func(runID string, finish sdk.Signal) (string, string) {
		t.Helper()
		var rids []string
		for _, s := range []sdk.Signal{sdk.SignalStart, finish} {
			if _, err := beat(t, c, sdk.Beat{Signal: s, RunID: runID}); err != nil {
				t.Fatalf("%s with run id %q: %v", s, runID, err)
			}
			r, _ := srv.LastRequest()
			rids = append(rids, r.Ping.RID)
		}
		return rids[0], rids[1]
	}
	t.Run("a UUID is sent in lower case", func(t *testing.T) {
		start, end := run("0B6F4E52-3C1A-4D8E-9F27-5A9C1E7D3B40", sdk.SignalSuccess)
		if start != "0b6f4e52-3c1a-4d8e-9f27-5a9c1e7d3b40" || end != start {
			t.Errorf("rids %q and %q", start, end)
		}
	})
	t.Run("other run ids become the same UUID", func(t *testing.T) {
		start, end := run("run-42", sdk.SignalFail)
		if _, ok := canonicalUUID(start); !ok || start != strings.ToLower(start) || end != start {
			t.Errorf("rids %q and %q", start, end)
		}
		other, _ := run("run-43", sdk.SignalSuccess)
		if other == start {
			t.Errorf("runs 42 and 43 share rid %q", start)
		}
		if again := runID("run-42"); again != start {
			t.Errorf("rid of run-42 changed from %q to %q", start, again)
		}
	})
	t.Run("no run id, no rid", func(t *testing.T) {
		if _, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess}); err != nil {
			t.Fatal(err)
		}
		r, _ := srv.LastRequest()
		if _, has := r.Query["rid"]; has {
			t.Errorf("sent rid %q", r.Query.Get("rid"))
		}
	})
}

func TestCreate(t *testing.T) {
	srv := hcfake.New(t, hcfake.Config{})
	srv.AddProject(testPingKey)
	c, _ := mustConfigure(t, settingsMap{"base_url": srv.BaseURL(), "ping_key": testPingKey, "slug": "new-check", "create": true})
	for _, want := range []string{"201 Created", "200 OK"} {
		res, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		if err != nil {
			t.Fatal(err)
		}
		if res.Detail != want {
			t.Errorf("detail %q, want %q", res.Detail, want)
		}
		r, _ := srv.LastRequest()
		if r.Query.Get("create") != "1" {
			t.Errorf("query %v, want create=1", r.Query)
		}
	}
}

// TestResponses covers every row of the spec's response table, and the
// answers of proxies in front of a server.
func TestResponses(t *testing.T) {
	const success = sdk.Kind(-1)
	type fixture struct {
		srv              *hcfake.Server
		uuid, slugUUID   string
		uuidSettings     settingsMap
		slugSettings     settingsMap
		wrongKeySettings settingsMap
	}
	tests := []struct {
		name     string
		flavor   hcfake.Flavor
		setup    func(f *fixture) settingsMap
		beat     sdk.Beat
		kind     sdk.Kind
		wordings []string
	}{
		{name: "recorded", setup: func(f *fixture) settingsMap { return f.uuidSettings }, kind: success, wordings: []string{"200 OK"}},
		{name: "unknown UUID, self-hosted", setup: func(f *fixture) settingsMap {
			f.srv.SetState(f.uuid, hcfake.Deleted)
			return f.uuidSettings
		}, kind: sdk.KindNotFound, wordings: []string{"Healthchecks has no check with this UUID", "404 not found", "create it or fix ping_url"}},
		{name: "unknown UUID given as uuid", setup: func(f *fixture) settingsMap {
			return settingsMap{"base_url": f.srv.BaseURL(), "uuid": hcfake.NewUUID()}
		}, kind: sdk.KindNotFound, wordings: []string{"fix uuid"}},
		{name: "unknown UUID, hc-ping.com", flavor: hcfake.Hosted, setup: func(f *fixture) settingsMap {
			f.srv.SetState(f.uuid, hcfake.Deleted)
			return f.uuidSettings
		}, kind: sdk.KindNotFound, wordings: []string{"Healthchecks has no check with this UUID", "200 OK (not found)"}},
		{name: "unknown UUID, hc-ping.com, HEAD", flavor: hcfake.Hosted, setup: func(f *fixture) settingsMap {
			f.srv.SetState(f.uuid, hcfake.Deleted)
			return merge(f.uuidSettings, settingsMap{"method": "HEAD"})
		}, kind: sdk.KindNotFound, wordings: []string{"200 OK (not found)"}},
		{name: "unknown slug", setup: func(f *fixture) settingsMap {
			f.srv.SetState(f.slugUUID, hcfake.Deleted)
			return f.slugSettings
		}, kind: sdk.KindNotFound, wordings: []string{"no check with this slug and ping key", "404 not found", "create: true"}},
		{name: "wrong ping key with create", setup: func(f *fixture) settingsMap {
			return merge(f.wrongKeySettings, settingsMap{"create": true})
		}, kind: sdk.KindNotFound, wordings: []string{"404 not found"}},
		{name: "rate limited UUID, hc-ping.com", flavor: hcfake.Hosted, setup: func(f *fixture) settingsMap {
			f.srv.SetState(f.uuid, hcfake.RateLimited)
			return f.uuidSettings
		}, kind: sdk.KindRateLimited, wordings: []string{"rate limiting", "200 OK (rate limited)", "send beats less often"}},
		{name: "rate limited UUID, HEAD", flavor: hcfake.Hosted, setup: func(f *fixture) settingsMap {
			f.srv.SetState(f.uuid, hcfake.RateLimited)
			return merge(f.uuidSettings, settingsMap{"method": "HEAD"})
		}, kind: sdk.KindRateLimited, wordings: []string{"200 OK (rate limited)"}},
		{name: "rate limited slug", flavor: hcfake.Hosted, setup: func(f *fixture) settingsMap {
			f.srv.SetState(f.slugUUID, hcfake.RateLimited)
			return f.slugSettings
		}, kind: sdk.KindRateLimited, wordings: []string{"429"}},
		{name: "ambiguous slug", setup: func(f *fixture) settingsMap {
			f.srv.AddSlugCheck(testPingKey, "backup")
			return f.slugSettings
		}, kind: sdk.KindPermanent, wordings: []string{"409 ambiguous slug", `slug "backup"`, "different slugs"}},
		{name: "server error", setup: func(f *fixture) settingsMap {
			f.srv.SetState(f.uuid, hcfake.Failing)
			return f.uuidSettings
		}, kind: sdk.KindTemporary, wordings: []string{"500 Internal Server Error"}},
		{name: "old server: log is 404", flavor: hcfake.Legacy, setup: func(f *fixture) settingsMap { return f.uuidSettings },
			beat: sdk.Beat{Signal: sdk.SignalLog}, kind: sdk.KindNotFound, wordings: []string{"before v2 also answer 404 to log"}},
		{name: "old server: create is 404", flavor: hcfake.Legacy, setup: func(f *fixture) settingsMap {
			return settingsMap{"base_url": f.srv.BaseURL(), "ping_key": testPingKey, "slug": "brand-new", "create": true}
		}, kind: sdk.KindNotFound, wordings: []string{"before v2 also answer 404 to create"}},
		{name: "old server: rid ignored", flavor: hcfake.Legacy, setup: func(f *fixture) settingsMap { return f.uuidSettings },
			beat: sdk.Beat{Signal: sdk.SignalStart, RunID: "r1"}, kind: success, wordings: []string{"200 OK"}},
	}
	for _, status := range []int{408, 500, 502, 503, 504} {
		tests = append(tests, struct {
			name     string
			flavor   hcfake.Flavor
			setup    func(f *fixture) settingsMap
			beat     sdk.Beat
			kind     sdk.Kind
			wordings []string
		}{name: "proxy answers " + itoa(status), setup: func(f *fixture) settingsMap {
			f.srv.SetOutage(status)
			return f.uuidSettings
		}, kind: sdk.KindTemporary, wordings: []string{itoa(status) + " " + http.StatusText(status)}})
	}
	for _, status := range []int{400, 401, 403, 405, 410} {
		tests = append(tests, struct {
			name     string
			flavor   hcfake.Flavor
			setup    func(f *fixture) settingsMap
			beat     sdk.Beat
			kind     sdk.Kind
			wordings []string
		}{name: "proxy answers " + itoa(status), setup: func(f *fixture) settingsMap {
			f.srv.SetOutage(status)
			return f.uuidSettings
		}, kind: sdk.KindPermanent, wordings: []string{itoa(status) + " " + http.StatusText(status)}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := hcfake.New(t, hcfake.Config{Flavor: tt.flavor})
			f := &fixture{srv: srv, uuid: srv.AddCheck(hcfake.NewUUID()), slugUUID: srv.AddSlugCheck(testPingKey, "backup")}
			f.uuidSettings = settingsMap{"ping_url": srv.PingURL(f.uuid)}
			f.slugSettings = settingsMap{"base_url": srv.BaseURL(), "ping_key": testPingKey, "slug": "backup"}
			f.wrongKeySettings = settingsMap{"base_url": srv.BaseURL(), "ping_key": "wrong" + testPingKey, "slug": "backup"}
			c, _ := mustConfigure(t, tt.setup(f))
			b := tt.beat
			if b.Signal == sdk.SignalUnspecified {
				b.Signal = sdk.SignalSuccess
			}
			res, err := beat(t, c, b)
			if tt.kind == success {
				if err != nil {
					t.Fatalf("failed: %v", err)
				}
				for _, w := range tt.wordings {
					if !strings.Contains(res.Detail, w) {
						t.Errorf("detail %q lacks %q", res.Detail, w)
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("succeeded with detail %q", res.Detail)
			}
			if got := sdk.KindOf(err); got != tt.kind {
				t.Errorf("kind %s, want %s (%v)", got, tt.kind, err)
			}
			for _, w := range tt.wordings {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "<") {
				t.Errorf("error is not one plain line: %q", err)
			}
		})
	}
}

func TestNotHealthchecks(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		kind    sdk.Kind
		wording string
	}{
		{"login page with 200", 200, "<html><body>Please log in</body></html>", sdk.KindPermanent, "200 OK, not Healthchecks' \"OK\""},
		{"200 with another word", 200, "pong", sdk.KindPermanent, "200 pong"},
		{"204", 204, "", sdk.KindPermanent, "204 No Content"},
		{"201 without Created", 201, "OK", sdk.KindPermanent, "201 OK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			c, _ := mustConfigure(t, settingsMap{"ping_url": srv.URL + "/" + testUUID})
			_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
			if err == nil {
				t.Fatal("succeeded")
			}
			if sdk.KindOf(err) != tt.kind || !strings.Contains(err.Error(), tt.wording) {
				t.Errorf("got %s %q, want %s with %q", sdk.KindOf(err), err, tt.kind, tt.wording)
			}
		})
	}
}

func TestNetworkErrors(t *testing.T) {
	t.Run("server gone", func(t *testing.T) {
		srv := hcfake.Start(hcfake.Config{})
		ping := srv.PingURL(srv.AddCheck(hcfake.NewUUID()))
		srv.Close()
		c, _ := mustConfigure(t, settingsMap{"ping_url": ping})
		_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		if err == nil || sdk.KindOf(err) != sdk.KindTemporary || !strings.Contains(err.Error(), "pinging Healthchecks") {
			t.Errorf("got %s %v, want a temporary error", sdk.KindOf(err), err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		srv := hcfake.New(t, hcfake.Config{})
		ping := srv.PingURL(srv.AddCheck(hcfake.NewUUID()))
		srv.SetDelay(5 * time.Second)
		c, _ := mustConfigure(t, settingsMap{"ping_url": ping, "timeout": "200ms"})
		start := time.Now()
		_, err := beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		if err == nil || sdk.KindOf(err) != sdk.KindTemporary || !strings.Contains(err.Error(), "timeout") {
			t.Errorf("got %s %v, want a temporary timeout", sdk.KindOf(err), err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %s despite a 200ms timeout", d)
		}
	})
}

func TestTLS(t *testing.T) {
	srv := hcfake.New(t, hcfake.Config{TLS: true, PathPrefix: "/hc/ping/"})
	id := srv.AddCheck(hcfake.NewUUID())
	sdktest.RunTLS(t, sdktest.TLS{
		CACertPEM: srv.CACertPEM(),
		Detail:    "200 OK",
		Beat: func(t *testing.T, extra map[string]any) (sdk.Result, error) {
			c, _ := mustConfigure(t, merge(settingsMap{"ping_url": srv.PingURL(id)}, extra))
			return beat(t, c, sdk.Beat{Signal: sdk.SignalSuccess})
		},
	})
}

// TestSecretsNeverShown collects everything the plugin shows (descriptions,
// details, errors, log lines) across successes and failures, and looks for
// the UUID and the ping key in full.
func TestSecretsNeverShown(t *testing.T) {
	srv := hcfake.New(t, hcfake.Config{Flavor: hcfake.Hosted})
	id := srv.AddCheck(hcfake.NewUUID())
	srv.AddSlugCheck(testPingKey, "backup")
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A proxy that quotes the path in its error.
		http.Error(w, "no route to "+r.URL.Path, http.StatusBadGateway)
	}))
	t.Cleanup(echo.Close)
	gone := hcfake.Start(hcfake.Config{})
	gone.Close()

	var logs bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
	var shown []string
	settings := []settingsMap{
		{"ping_url": srv.PingURL(id)},
		{"ping_url": srv.PingURL(strings.ToUpper(id)), "method": "HEAD"},
		{"base_url": srv.BaseURL(), "uuid": id},
		{"base_url": srv.BaseURL(), "ping_key": testPingKey, "slug": "backup"},
		{"base_url": srv.BaseURL(), "ping_key": testPingKey, "slug": "nope", "create": true},
		{"ping_url": echo.URL + "/ping/" + id},
		{"base_url": echo.URL + "/ping/", "ping_key": testPingKey, "slug": "backup"},
		{"ping_url": gone.PingURL(id)},
		{"base_url": gone.BaseURL(), "ping_key": testPingKey, "slug": "backup"},
		{"ping_url": strings.Replace(srv.PingURL(id), "http://", "https://", 1)}, // TLS to a plain server
	}
	for _, s := range settings {
		raw := mustJSON(t, s)
		inst, err := target{}.Configure(context.Background(), sdk.ConfigureRequest{Instance: "hc", Settings: raw, Logger: logger})
		if err != nil {
			t.Fatalf("configure %v: %v", s, err)
		}
		shown = append(shown, inst.Describe())
		for _, state := range []hcfake.State{hcfake.Up, hcfake.RateLimited, hcfake.Failing, hcfake.Deleted} {
			srv.SetState(id, state)
			for _, sig := range []sdk.Signal{sdk.SignalSuccess, sdk.SignalStart, sdk.SignalFail, sdk.SignalLog} {
				res, err := inst.Beat(context.Background(), sdk.Beat{Signal: sig, Message: "m", RunID: "r"})
				shown = append(shown, res.Detail)
				if err != nil {
					shown = append(shown, err.Error())
				}
			}
		}
	}
	// Configure errors, through the contract.
	for _, s := range []settingsMap{
		{"ping_url": srv.PingURL(id) + "/fail"},
		{"ping_url": "ftp://x/" + id},
		{"ping_url": srv.PingURL(id), "uuid": id, "ping_key": testPingKey, "slug": "x y"},
		{"base_url": srv.PingURL(id), "uuid": id},
		{"ping_key": testPingKey + "!", "slug": "b"},
		{"ping_url": srv.BaseURL() + testPingKey + "/backup"},
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
		for _, secret := range []string{id, strings.ToUpper(id), testPingKey} {
			if strings.Contains(s, secret) {
				t.Errorf("shows a secret: %q", s)
			}
		}
	}
}

func TestConcurrentBeats(t *testing.T) {
	srv := hcfake.New(t, hcfake.Config{BodyLimit: 300})
	id := srv.AddCheck(hcfake.NewUUID())
	c, _ := mustConfigure(t, settingsMap{"ping_url": srv.PingURL(id)})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := beat(t, c, sdk.Beat{Signal: sdk.SignalLog, Log: bytes.Repeat([]byte("x"), 1000), Sequence: uint64(i)}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(srv.Pings(id)); n != 8 {
		t.Errorf("stored %d pings, want 8", n)
	}
}
