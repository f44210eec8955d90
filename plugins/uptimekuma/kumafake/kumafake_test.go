package kumafake_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/uptimekuma/kumafake"
)

const (
	okBody       = `{"ok":true}`
	notFoundBody = `{"ok":false,"msg":"Monitor not found or not active."}`
	badPingBody  = `{"ok":false,"msg":"Invalid ping value. Must be between 0 and 100000000000 ms."}`
	jsonType     = "application/json; charset=utf-8"
	htmlType     = "text/html; charset=utf-8"
)

type reply struct {
	code        int
	contentType string
	body        string
}

func do(t *testing.T, method, url, contentType, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "kumafake-test/1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{resp.StatusCode, resp.Header.Get("Content-Type"), string(b)}
}

func expressPage(text string) string {
	return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>" +
		text + "</pre>\n</body>\n</html>\n"
}

func TestMethods(t *testing.T) {
	tests := []struct {
		version     kumafake.Version
		method      string
		contentType string
		body        string
		want        reply // body "PAGE:x" means Express's page for x
		wantBeat    bool
	}{
		{kumafake.V1, http.MethodGet, "", "", reply{200, jsonType, okBody}, true},
		{kumafake.V1, http.MethodHead, "", "", reply{200, jsonType, ""}, true},
		{kumafake.V1, http.MethodPost, "", "", reply{404, htmlType, "PAGE:Cannot POST /api/push/TOKEN"}, false},
		{kumafake.V1, http.MethodPut, "", "", reply{404, htmlType, "PAGE:Cannot PUT /api/push/TOKEN"}, false},
		{kumafake.V2, http.MethodGet, "", "", reply{200, jsonType, okBody}, true},
		{kumafake.V2, http.MethodHead, "", "", reply{200, jsonType, ""}, true},
		{kumafake.V2, http.MethodPost, "", "", reply{200, jsonType, okBody}, true},
		{kumafake.V2, http.MethodPut, "", "", reply{200, jsonType, okBody}, true},
		{kumafake.V2, http.MethodPost, "application/json", `{"status":"down"}`, reply{200, jsonType, okBody}, true},
		{kumafake.V2, http.MethodPost, "application/json", `{not json`, reply{400, htmlType, "PAGE:Bad Request"}, false},
		{kumafake.V2, http.MethodPost, "text/plain", `{not json`, reply{200, jsonType, okBody}, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.version)+"/"+tt.method+"/"+tt.contentType, func(t *testing.T) {
			s := kumafake.New(t, kumafake.Options{Version: tt.version})
			token := s.AddMonitor()
			got := do(t, tt.method, s.URL+"/api/push/"+token+"?status=up&msg=OK&ping=", tt.contentType, tt.body)
			want := tt.want
			if page, ok := strings.CutPrefix(want.body, "PAGE:"); ok {
				want.body = expressPage(strings.ReplaceAll(page, "TOKEN", token))
			}
			if got != want {
				t.Errorf("answer = %+v, want %+v", got, want)
			}
			beats := s.Beats(token)
			if gotBeat := len(beats) == 1; gotBeat != tt.wantBeat {
				t.Fatalf("stored %d beats, want beat: %v", len(beats), tt.wantBeat)
			}
			if tt.wantBeat && beats[0].Status != kumafake.Up {
				t.Errorf("status = %v, want UP (a body never sets the status)", beats[0].Status)
			}
			p, _ := s.LastPush()
			if p.Method != tt.method || p.Token != token || p.UserAgent != "kumafake-test/1" || p.Code != want.code {
				t.Errorf("recorded push = %+v", p)
			}
		})
	}
}

func TestQuery(t *testing.T) {
	ping := func(f float64) *float64 { return &f }
	tests := []struct {
		name     string
		version  kumafake.Version
		query    string
		want     reply
		status   kumafake.Status
		msg      string
		ping     *float64
		noRecord bool
	}{
		{name: "ui url", query: "?status=up&msg=OK&ping=", status: kumafake.Up, msg: "OK"},
		{name: "no query", query: "", status: kumafake.Up, msg: "OK"},
		{name: "status down", query: "?status=down", status: kumafake.Down, msg: "OK"},
		{name: "status UP is down", query: "?status=UP", status: kumafake.Down, msg: "OK"},
		{name: "status pending is down", query: "?status=pending", status: kumafake.Down, msg: "OK"},
		{name: "status ok is down", query: "?status=ok", status: kumafake.Down, msg: "OK"},
		{name: "msg empty", query: "?msg=", status: kumafake.Up, msg: "OK"},
		{name: "msg utf8 verbatim", query: "?msg=caf%C3%A9%20%26%20%E2%9C%93%3D%2B", status: kumafake.Up, msg: "café & ✓=+"},
		{name: "msg plus is space", query: "?msg=a+b", status: kumafake.Up, msg: "a b"},
		{name: "msg repeated", query: "?msg=a&msg=b", status: kumafake.Up, msg: "[object Object]"},
		{name: "msg long", query: "?msg=" + strings.Repeat("x", 5000), status: kumafake.Up, msg: strings.Repeat("x", 5000)},
		{name: "ping 5.5", query: "?ping=5.5", status: kumafake.Up, msg: "OK", ping: ping(5.5)},
		{name: "ping 0 is null", query: "?ping=0", status: kumafake.Up, msg: "OK"},
		{name: "ping text is null", query: "?ping=abc", status: kumafake.Up, msg: "OK"},
		{name: "ping prefix parsed", query: "?ping=%207ms", status: kumafake.Up, msg: "OK", ping: ping(7)},
		{name: "ping exponent", query: "?ping=1e3", status: kumafake.Up, msg: "OK", ping: ping(1000)},
		{name: "ping max", query: "?ping=100000000000", status: kumafake.Up, msg: "OK", ping: ping(1e11)},
		{name: "v1 ping negative kept", version: kumafake.V1, query: "?ping=-3", status: kumafake.Up, msg: "OK", ping: ping(-3)},
		{name: "v1 ping huge kept", version: kumafake.V1, query: "?ping=200000000000", status: kumafake.Up, msg: "OK", ping: ping(2e11)},
		{name: "v2 ping negative", query: "?ping=-3", want: reply{404, jsonType, badPingBody}, noRecord: true},
		{name: "v2 ping huge", query: "?ping=100000000001", want: reply{404, jsonType, badPingBody}, noRecord: true},
		{name: "v1 status UP is down", version: kumafake.V1, query: "?status=UP", status: kumafake.Down, msg: "OK"},
		{name: "v1 msg repeated", version: kumafake.V1, query: "?msg=a&msg=b", status: kumafake.Up, msg: "[object Object]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := kumafake.New(t, kumafake.Options{Version: tt.version})
			token := s.AddMonitor()
			got := do(t, http.MethodGet, s.URL+"/api/push/"+token+tt.query, "", "")
			want := tt.want
			if want.code == 0 {
				want = reply{200, jsonType, okBody}
			}
			if got != want {
				t.Fatalf("answer = %+v, want %+v", got, want)
			}
			beats := s.Beats(token)
			if tt.noRecord {
				if len(beats) != 0 {
					t.Fatalf("stored %+v, want nothing", beats)
				}
				return
			}
			if len(beats) != 1 {
				t.Fatalf("stored %d beats, want 1", len(beats))
			}
			b := beats[0]
			if b.Status != tt.status || b.Msg != tt.msg {
				t.Errorf("stored %v %q, want %v %q", b.Status, b.Msg, tt.status, tt.msg)
			}
			switch {
			case (b.Ping == nil) != (tt.ping == nil):
				t.Errorf("ping = %v, want %v", b.Ping, tt.ping)
			case b.Ping != nil && *b.Ping != *tt.ping:
				t.Errorf("ping = %v, want %v", *b.Ping, *tt.ping)
			}
		})
	}
}

func TestMonitorNotFound(t *testing.T) {
	for _, v := range []kumafake.Version{kumafake.V1, kumafake.V2} {
		t.Run(string(v), func(t *testing.T) {
			s := kumafake.New(t, kumafake.Options{Version: v})
			token := s.AddMonitor()
			notFound := reply{404, jsonType, notFoundBody}

			if got := do(t, http.MethodGet, s.URL+"/api/push/wrongtoken?status=up", "", ""); got != notFound {
				t.Errorf("wrong token: %+v", got)
			}
			s.Pause(token)
			if got := do(t, http.MethodGet, s.URL+"/api/push/"+token+"?status=up", "", ""); got != notFound {
				t.Errorf("paused: %+v", got)
			}
			s.Resume(token)
			if got := do(t, http.MethodGet, s.URL+"/api/push/"+token+"/?status=up", "", ""); got.code != 200 {
				t.Errorf("resumed, trailing slash: %+v", got)
			}
			s.RemoveMonitor(token)
			if got := do(t, http.MethodGet, s.URL+"/api/push/"+token, "", ""); got != notFound {
				t.Errorf("removed: %+v", got)
			}
		})
	}
}

func TestEmptyToken(t *testing.T) {
	s := kumafake.New(t, kumafake.Options{Version: kumafake.V2})
	if got := do(t, http.MethodGet, s.URL+"/api/push/?status=up", "", ""); got != (reply{404, jsonType, notFoundBody}) {
		t.Errorf("2.x: %+v", got)
	}
	s1 := kumafake.New(t, kumafake.Options{Version: kumafake.V1})
	if got := do(t, http.MethodGet, s1.URL+"/api/push/?status=up", "", ""); got.code != 200 || got.contentType != htmlType {
		t.Errorf("1.x: %+v, want the web app's page", got)
	}
}

func TestFailNext(t *testing.T) {
	s := kumafake.New(t, kumafake.Options{})
	token := s.AddMonitor()
	s.FailNext("SQLITE_BUSY: database is locked")
	want := reply{404, jsonType, `{"ok":false,"msg":"SQLITE_BUSY: database is locked"}`}
	if got := do(t, http.MethodGet, s.URL+"/api/push/"+token, "", ""); got != want {
		t.Errorf("failing push: %+v, want %+v", got, want)
	}
	if got := do(t, http.MethodGet, s.URL+"/api/push/"+token, "", ""); got.code != 200 {
		t.Errorf("next push: %+v", got)
	}
	if n := len(s.Beats(token)); n != 1 {
		t.Errorf("stored %d beats, want 1", n)
	}
}

func TestRetriesAndImportance(t *testing.T) {
	tests := []struct {
		version kumafake.Version
		want    []kumafake.Status
	}{
		{kumafake.V2, []kumafake.Status{kumafake.Down, kumafake.Up, kumafake.Pending, kumafake.Pending, kumafake.Down, kumafake.Up, kumafake.Pending}},
		{kumafake.V1, []kumafake.Status{kumafake.Down, kumafake.Up, kumafake.Down, kumafake.Down, kumafake.Down, kumafake.Up, kumafake.Down}},
	}
	for _, tt := range tests {
		t.Run(string(tt.version), func(t *testing.T) {
			s := kumafake.New(t, kumafake.Options{Version: tt.version})
			token := s.AddMonitor()
			s.SetRetries(token, 2)
			for _, st := range []string{"down", "up", "down", "down", "down", "up", "down"} {
				do(t, http.MethodGet, s.URL+"/api/push/"+token+"?status="+st, "", "")
			}
			beats := s.Beats(token)
			if len(beats) != len(tt.want) {
				t.Fatalf("stored %d beats, want %d", len(beats), len(tt.want))
			}
			for i, b := range beats {
				if b.Status != tt.want[i] {
					t.Errorf("beat %d: %v, want %v", i, b.Status, tt.want[i])
				}
				wantImportant := i == 0 || tt.want[i-1] != tt.want[i]
				if b.Important != wantImportant {
					t.Errorf("beat %d important = %v, want %v", i, b.Important, wantImportant)
				}
			}
		})
	}
}

func TestMaintenance(t *testing.T) {
	s := kumafake.New(t, kumafake.Options{})
	token := s.AddMonitor()
	s.SetMaintenance(token, true)
	if got := do(t, http.MethodGet, s.URL+"/api/push/"+token+"?status=down", "", ""); got != (reply{200, jsonType, okBody}) {
		t.Fatalf("answer %+v", got)
	}
	if b := s.Beats(token); len(b) != 1 || b[0].Status != kumafake.Maintenance || int(b[0].Status) != 3 {
		t.Errorf("stored %+v, want one MAINTENANCE (3) row", b)
	}
}

func TestCheckWindow(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 600e6, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	s := kumafake.New(t, kumafake.Options{Now: clock})
	token := s.AddMonitor()
	s.SetInterval(token, 60*time.Second)
	do(t, http.MethodGet, s.URL+"/api/push/"+token+"?status=up", "", "")
	if got := s.Beats(token)[0].TimeString(); got != "2026-01-02 03:04:05.600" {
		t.Errorf("time = %q", got)
	}
	advance(61 * time.Second)
	if s.CheckWindow(token) {
		t.Fatal("added a row within interval + 1 s")
	}
	advance(time.Millisecond)
	if !s.CheckWindow(token) {
		t.Fatal("added no row after interval + 1 s")
	}
	beats := s.Beats(token)
	if last := beats[len(beats)-1]; last.Status != kumafake.Down || last.Msg != kumafake.MsgNoHeartbeat || !last.Important {
		t.Errorf("row = %+v", last)
	}
	if !s.CheckWindow(token) {
		t.Error("a monitor that is not UP gets a row on every check")
	}
}

func TestPrefix(t *testing.T) {
	s := kumafake.New(t, kumafake.Options{Prefix: "/kuma/"})
	token := s.AddMonitor()
	if got := do(t, http.MethodGet, s.PushURL(token), "", ""); got != (reply{200, jsonType, okBody}) {
		t.Errorf("below the prefix: %+v", got)
	}
	if !strings.HasPrefix(s.PushURL(token), s.URL+"/kuma/api/push/") {
		t.Errorf("PushURL = %s", s.PushURL(token))
	}
	if got := do(t, http.MethodGet, s.URL+"/api/push/"+token, "", ""); got.code != 404 || got.contentType == jsonType {
		t.Errorf("outside the prefix: %+v, want the proxy's 404", got)
	}
	if got := do(t, http.MethodGet, s.URL+"/kuma/dashboard", "", ""); got.code != 200 || got.contentType != htmlType {
		t.Errorf("other page: %+v, want the web app", got)
	}
	if n := len(s.Pushes()); n != 1 {
		t.Errorf("recorded %d pushes, want 1", n)
	}
}

func TestNoRateLimit(t *testing.T) {
	s := kumafake.New(t, kumafake.Options{})
	token := s.AddMonitor()
	var wg sync.WaitGroup
	codes := make(chan int, 100)
	for range 100 {
		wg.Go(func() {
			resp, err := http.Get(s.URL + "/api/push/" + token)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Fatalf("got %d, want every push accepted", c)
		}
	}
	if n := len(s.Beats(token)); n != 100 {
		t.Errorf("stored %d beats, want 100", n)
	}
}
