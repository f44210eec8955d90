package hcfake

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestSpecRows sends the requests of the spec's tables to the fake and
// checks each answer and what was stored.
func TestSpecRows(t *testing.T) {
	const key = "pingkey_0123456789abcd"
	type setup struct {
		uuid, slugUUID, dupUUID string
	}
	tests := []struct {
		name    string
		flavor  Flavor
		state   State // of the UUID check
		method  string
		path    func(s setup) string // after the prefix
		body    string
		chunked bool
		ua      string

		status    int
		answer    string // exact, or prefix when ending with "*"
		limitHdr  string // Ping-Body-Limit, "" for none
		kind      Kind   // stored kind, "" for nothing stored
		exit      int    // -1 for none
		storedLen int
		rid       string
	}{
		{name: "recorded GET", method: "GET", path: func(s setup) string { return s.uuid }, status: 200, answer: "OK", limitHdr: "10000", kind: KindSuccess, exit: -1},
		{name: "recorded HEAD", method: "HEAD", path: func(s setup) string { return s.uuid }, status: 200, answer: "", limitHdr: "10000", kind: KindSuccess, exit: -1},
		{name: "recorded PUT", method: "PUT", path: func(s setup) string { return s.uuid }, status: 200, answer: "OK", limitHdr: "10000", kind: KindSuccess, exit: -1},
		{name: "recorded POST with body", method: "POST", path: func(s setup) string { return s.uuid }, body: "hello", status: 200, answer: "OK", limitHdr: "10000", kind: KindSuccess, exit: -1, storedLen: 5},
		{name: "trailing slash", method: "GET", path: func(s setup) string { return s.uuid + "/" }, status: 200, answer: "OK", limitHdr: "10000", kind: KindSuccess, exit: -1},
		{name: "start", method: "GET", path: func(s setup) string { return s.uuid + "/start" }, status: 200, answer: "OK", limitHdr: "10000", kind: KindStart, exit: -1},
		{name: "fail", method: "GET", path: func(s setup) string { return s.uuid + "/fail" }, status: 200, answer: "OK", limitHdr: "10000", kind: KindFail, exit: -1},
		{name: "log", method: "GET", path: func(s setup) string { return s.uuid + "/log" }, status: 200, answer: "OK", limitHdr: "10000", kind: KindLog, exit: -1},
		{name: "exit 0", method: "GET", path: func(s setup) string { return s.uuid + "/0" }, status: 200, answer: "OK", limitHdr: "10000", kind: KindSuccess, exit: 0},
		{name: "exit 255", method: "GET", path: func(s setup) string { return s.uuid + "/255" }, status: 200, answer: "OK", limitHdr: "10000", kind: KindFail, exit: 255},
		{name: "exit 256", method: "GET", path: func(s setup) string { return s.uuid + "/256" }, status: 400, answer: "invalid url format", exit: -1},
		{name: "rid", method: "GET", path: func(s setup) string { return s.uuid + "?rid=0b6f4e52-3c1a-4d8e-9f27-5a9c1e7d3b40" }, status: 200, answer: "OK", limitHdr: "10000", kind: KindSuccess, exit: -1, rid: "0b6f4e52-3c1a-4d8e-9f27-5a9c1e7d3b40"},
		{name: "rid upper case", method: "GET", path: func(s setup) string { return s.uuid + "?rid=0B6F4E52-3C1A-4D8E-9F27-5A9C1E7D3B40" }, status: 400, answer: "invalid uuid format", exit: -1},
		{name: "rid without dashes", method: "GET", path: func(s setup) string { return s.uuid + "?rid=0b6f4e523c1a4d8e9f275a9c1e7d3b40" }, status: 400, answer: "invalid uuid format", exit: -1},
		{name: "rid empty", method: "GET", path: func(s setup) string { return s.uuid + "?rid=" }, status: 400, answer: "invalid uuid format", exit: -1},
		{name: "unknown UUID", method: "GET", path: func(s setup) string { return NewUUID() }, status: 404, answer: "not found", exit: -1},
		{name: "deleted check", state: Deleted, method: "GET", path: func(s setup) string { return s.uuid }, status: 404, answer: "not found", exit: -1},
		{name: "UUID upper case", method: "GET", path: func(s setup) string { return strings.ToUpper(s.uuid) }, status: 404, answer: "<!doctype html>*", exit: -1},
		{name: "UUID without dashes", method: "GET", path: func(s setup) string { return strings.ReplaceAll(s.uuid, "-", "") }, status: 404, answer: "<!doctype html>*", exit: -1},
		{name: "slug", method: "GET", path: func(s setup) string { return key + "/backup" }, status: 200, answer: "OK", limitHdr: "10000", kind: KindSuccess, exit: -1},
		{name: "slug start", method: "GET", path: func(s setup) string { return key + "/backup/start" }, status: 200, answer: "OK", limitHdr: "10000", kind: KindStart, exit: -1},
		{name: "slug exit code", method: "GET", path: func(s setup) string { return key + "/backup/3" }, status: 200, answer: "OK", limitHdr: "10000", kind: KindFail, exit: 3},
		{name: "unknown slug", method: "GET", path: func(s setup) string { return key + "/nope" }, status: 404, answer: "not found", exit: -1},
		{name: "create", method: "GET", path: func(s setup) string { return key + "/New_Slug?create=1" }, status: 201, answer: "Created", limitHdr: "10000", kind: KindSuccess, exit: -1},
		{name: "create=true is no create", method: "GET", path: func(s setup) string { return key + "/nope?create=true" }, status: 404, answer: "not found", exit: -1},
		{name: "wrong ping key with create", method: "GET", path: func(s setup) string { return "otherkey/backup?create=1" }, status: 404, answer: "not found", exit: -1},
		{name: "bad slug chars", method: "GET", path: func(s setup) string { return key + "/back.up" }, status: 400, answer: "invalid url format", exit: -1},
		{name: "ambiguous slug", method: "GET", path: func(s setup) string { return key + "/dup" }, status: 409, answer: "ambiguous slug", exit: -1},
		{name: "body over limit is cut", method: "POST", path: func(s setup) string { return s.uuid }, body: strings.Repeat("x", 20_000), status: 200, answer: "OK", limitHdr: "10000", kind: KindSuccess, exit: -1, storedLen: 10_000},
		{name: "chunked body is stored empty", method: "POST", path: func(s setup) string { return s.uuid }, body: "lost", chunked: true, status: 200, answer: "OK", limitHdr: "10000", kind: KindSuccess, exit: -1},
		{name: "body over upload limit", method: "POST", path: func(s setup) string { return s.uuid }, body: strings.Repeat("x", MaxUploadBytes+1), status: 400, answer: "<!doctype html>*", exit: -1},
		{name: "failing", state: Failing, method: "GET", path: func(s setup) string { return s.uuid }, status: 500, answer: "<!doctype html>*", exit: -1},

		{name: "hosted recorded", flavor: Hosted, method: "GET", path: func(s setup) string { return s.uuid }, status: 200, answer: "OK", limitHdr: "100000", kind: KindSuccess, exit: -1},
		{name: "hosted unknown UUID", flavor: Hosted, method: "GET", path: func(s setup) string { return NewUUID() }, status: 200, answer: "OK (not found)", exit: -1},
		{name: "hosted rate limited UUID", flavor: Hosted, state: RateLimited, method: "GET", path: func(s setup) string { return s.uuid }, status: 200, answer: "OK (rate limited)", exit: -1},
		{name: "hosted unknown slug", flavor: Hosted, method: "GET", path: func(s setup) string { return key + "/nope" }, status: 404, answer: "not found", exit: -1},

		{name: "legacy recorded without header", flavor: Legacy, method: "GET", path: func(s setup) string { return s.uuid }, status: 200, answer: "OK", kind: KindSuccess, exit: -1},
		{name: "legacy log is 404", flavor: Legacy, method: "GET", path: func(s setup) string { return s.uuid + "/log" }, status: 404, answer: "not found", exit: -1},
		{name: "legacy ignores rid", flavor: Legacy, method: "GET", path: func(s setup) string { return s.uuid + "?rid=bogus" }, status: 200, answer: "OK", kind: KindSuccess, exit: -1},
		{name: "legacy create is 404", flavor: Legacy, method: "GET", path: func(s setup) string { return key + "/newone?create=1" }, status: 404, answer: "not found", exit: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := New(t, Config{Flavor: tt.flavor})
			st := setup{uuid: srv.AddCheck(NewUUID())}
			st.slugUUID = srv.AddSlugCheck(key, "backup")
			srv.AddSlugCheck(key, "dup")
			srv.AddSlugCheck(key, "dup")
			srv.SetState(st.uuid, tt.state)

			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
				if !tt.chunked {
					body = bytes.NewReader([]byte(tt.body))
				} else {
					body = io.MultiReader(strings.NewReader(tt.body)) // unknown length: chunked
				}
			}
			req, err := http.NewRequest(tt.method, srv.BaseURL()+tt.path(st), body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if want, ok := strings.CutSuffix(tt.answer, "*"); ok {
				if !strings.HasPrefix(string(got), want) {
					t.Errorf("answer %q, want it to start with %q", got, want)
				}
			} else if string(got) != tt.answer {
				t.Errorf("answer %q, want %q", got, tt.answer)
			}
			if h := resp.Header.Get("Ping-Body-Limit"); h != tt.limitHdr {
				t.Errorf("Ping-Body-Limit %q, want %q", h, tt.limitHdr)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			pings := srv.Pings("")
			if tt.kind == "" {
				if len(pings) != 0 {
					t.Fatalf("stored %+v, want nothing", pings)
				}
				return
			}
			if len(pings) != 1 {
				t.Fatalf("stored %d pings, want 1", len(pings))
			}
			p := pings[0]
			if p.Kind != tt.kind {
				t.Errorf("kind %q, want %q", p.Kind, tt.kind)
			}
			if (tt.exit < 0) != (p.ExitStatus == nil) || (p.ExitStatus != nil && *p.ExitStatus != tt.exit) {
				t.Errorf("exit status %v, want %d", p.ExitStatus, tt.exit)
			}
			if len(p.Body) != tt.storedLen {
				t.Errorf("stored %d body bytes, want %d", len(p.Body), tt.storedLen)
			}
			if p.RID != tt.rid {
				t.Errorf("rid %q, want %q", p.RID, tt.rid)
			}
			if p.Method != tt.method {
				t.Errorf("method %q, want %q", p.Method, tt.method)
			}
		})
	}
}

func TestCreateThenOK(t *testing.T) {
	srv := New(t, Config{})
	srv.AddProject("key")
	for i, want := range []int{201, 200} {
		resp, err := http.Get(srv.BaseURL() + "key/new-check?create=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("ping %d: status %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	pings := srv.Pings("")
	if len(pings) != 2 || !pings[0].Created || pings[1].Created || pings[0].Check != pings[1].Check {
		t.Errorf("pings %+v: want one created check pinged twice", pings)
	}
}

func TestUserAgentStoredTruncated(t *testing.T) {
	srv := New(t, Config{})
	id := srv.AddCheck(NewUUID())
	req, _ := http.NewRequest("GET", srv.PingURL(id), nil)
	req.Header.Set("User-Agent", strings.Repeat("a", 300))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := srv.Pings(id)[0].UserAgent; len(got) != MaxUserAgent {
		t.Errorf("stored a User-Agent of %d characters, want %d", len(got), MaxUserAgent)
	}
	if r, _ := srv.LastRequest(); len(r.UserAgent) != 300 {
		t.Errorf("recorded a User-Agent of %d characters, want all 300", len(r.UserAgent))
	}
}

func TestPathPrefixAndOutage(t *testing.T) {
	srv := New(t, Config{PathPrefix: "/hc/ping/"})
	id := srv.AddCheck(NewUUID())
	if !strings.HasSuffix(srv.BaseURL(), "/hc/ping/") {
		t.Fatalf("BaseURL %q", srv.BaseURL())
	}
	get := func(u string) int {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(srv.PingURL(id)); got != 200 {
		t.Errorf("ping under the prefix: %d", got)
	}
	if got := get(srv.URL() + "/ping/" + id); got != 404 {
		t.Errorf("ping outside the prefix: %d, want 404", got)
	}
	srv.SetOutage(503)
	if got := get(srv.PingURL(id)); got != 503 {
		t.Errorf("during the outage: %d, want 503", got)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("recorded %d requests, want 3", n)
	}
}
