package page

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seed-e9b80cf6/heartbeat/core/status"
)

var now = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// cannedSnapshot has one heartbeat in each state, a beat of each outcome
// and a plugin in each state.
func cannedSnapshot() status.Snapshot {
	beat := func(seq uint64, ago time.Duration, outcome string, ds ...status.Delivery) status.Beat {
		t := now.Add(-ago)
		return status.Beat{Sequence: seq, ScheduledAt: t, StartedAt: t, FinishedAt: t.Add(120 * time.Millisecond), Outcome: outcome, Deliveries: ds}
	}
	delivered := status.Delivery{Target: "console", Signal: "success", Result: status.ResultDelivered, Attempts: 1, DurationMS: 3.5}
	refused := status.Delivery{Target: "kuma", Signal: "success", Result: status.ResultFailed, Kind: "not_found", Attempts: 1, DurationMS: 40, Detail: "404 Not Found: no such push token"}
	return status.Snapshot{
		Version:     status.SchemaVersion,
		GeneratedAt: now,
		StartedAt:   now.Add(-2*time.Hour - 5*time.Minute),
		Ready:       true,
		Heartbeats: []status.Heartbeat{
			{
				Name: "backup", Frequency: "every 5 minutes", NextBeat: ptr(now.Add(4*time.Minute + 10*time.Second)), State: status.StateOK,
				Targets: []status.TargetState{{Name: "console", Plugin: "log", Description: "log at info", LastSignal: "success", LastResult: status.ResultDelivered, LastAt: ptr(now.Add(-50 * time.Second)), LastSuccessAt: ptr(now.Add(-50 * time.Second))}},
				Beats: []status.Beat{
					beat(1, 10*time.Minute, status.OutcomeOK, delivered),
					beat(2, 5*time.Minute, status.OutcomeSkipped),
					beat(3, 50*time.Second, status.OutcomeOK, delivered),
				},
			},
			{
				Name: "web", Frequency: "at 10:15 am", Timezone: "Europe/Stockholm", Check: "GET http://127.0.0.1:8080/health", NextBeat: ptr(now.Add(26 * time.Hour)), State: status.StateFailing,
				Targets: []status.TargetState{{Name: "kuma", Plugin: "uptimekuma", LastSignal: "fail", LastResult: status.ResultFailed, LastKind: "not_found", LastDetail: "404 Not Found: no such push token", LastAt: ptr(now.Add(-3 * time.Second))}},
				Beats: []status.Beat{
					{Sequence: 7, ScheduledAt: now.Add(-3 * time.Second), StartedAt: now.Add(-3 * time.Second), FinishedAt: now.Add(-2 * time.Second), Outcome: status.OutcomeCheckFailed,
						Check:      &status.CheckResult{OK: false, Message: "connection refused", ExitCode: ptr(7), DurationMS: 12},
						Deliveries: []status.Delivery{{Target: "kuma", Signal: "fail", Result: status.ResultFailed, Kind: "not_found", Attempts: 1, DurationMS: 40, Detail: "404 Not Found: no such push token"}}},
				},
			},
			{
				Name: "sync", Frequency: "every 1 min", NextBeat: ptr(now.Add(30 * time.Second)), State: status.StateDegraded,
				Targets: []status.TargetState{
					{Name: "console", Plugin: "log", LastSignal: "success", LastResult: status.ResultDelivered, LastAt: ptr(now.Add(-30 * time.Second))},
					{Name: "kuma", Plugin: "uptimekuma", LastSignal: "success", LastResult: status.ResultFailed, LastKind: "not_found", LastDetail: "404 Not Found", LastAt: ptr(now.Add(-30 * time.Second))},
				},
				Beats: []status.Beat{beat(1, 90*time.Second, status.OutcomeFailed, refused), beat(2, 30*time.Second, status.OutcomeDegraded, delivered, refused)},
			},
			{Name: "nightly", Frequency: "at 3:00 am", State: status.StatePending, Targets: []status.TargetState{{Name: "console", Plugin: "log"}}},
		},
		Plugins: []status.Plugin{
			{Name: "http", State: status.PluginRestarting, Restarts: 3, NextRestart: ptr(now.Add(4 * time.Second)), Detail: "exited: signal: killed"},
			{Name: "log", State: status.PluginRunning},
			{Name: "pinned", State: status.PluginRefused, Detail: "sha256 does not match the pin in the config"},
			{Name: "uptimekuma", State: status.PluginRunning},
		},
	}
}

func serve(t *testing.T, s status.Snapshot, method string) (*http.Response, string) {
	t.Helper()
	srv := httptest.NewServer(Handler(func() status.Snapshot { return s }))
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+"/status", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func render(t *testing.T, s status.Snapshot) string {
	t.Helper()
	resp, body := serve(t, s, http.MethodGet)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	return body
}

// text is the page without its tags, entities decoded for the few the
// template produces, whitespace collapsed: what a reader sees.
func text(html string) string {
	html = regexp.MustCompile(`(?s)<style>.*?</style>`).ReplaceAllString(html, "")
	html = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(html, " ")
	r := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&amp;", "&")
	return strings.Join(strings.Fields(r.Replace(html)), " ")
}

func TestHeaders(t *testing.T) {
	resp, body := serve(t, cannedSnapshot(), http.MethodGet)
	h := resp.Header
	for name, want := range map[string]string{
		"Content-Type":           "text/html; charset=utf-8",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
		"X-Frame-Options":        "DENY",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "img-src data:", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows more than the page needs", csp)
	}
	// The style element's hash is the one the policy allows: a browser
	// would otherwise render the page unstyled.
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no style element")
	}
	sum := sha256.Sum256([]byte(m[1]))
	if want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
		t.Errorf("CSP %q does not allow the page's style (%s)", csp, want)
	}
	if strings.Contains(body, "<script") || regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).MatchString(body) || strings.Contains(body, " style=") {
		t.Error("the page has a script, a resource from another host or an inline style attribute")
	}
	if !strings.Contains(body, `<meta name="viewport" content="width=device-width, initial-scale=1">`) {
		t.Error("no viewport meta")
	}
	if !strings.Contains(body, fmt.Sprintf(`<meta http-equiv="refresh" content="%d">`, RefreshSeconds)) {
		t.Error("no meta refresh")
	}
	if !strings.Contains(body, "prefers-color-scheme: dark") {
		t.Error("no dark scheme")
	}
}

func TestMethods(t *testing.T) {
	resp, body := serve(t, cannedSnapshot(), http.MethodHead)
	if resp.StatusCode != http.StatusOK || body != "" || resp.Header.Get("Content-Length") == "" {
		t.Errorf("HEAD: %d, %d bytes, length %q", resp.StatusCode, len(body), resp.Header.Get("Content-Length"))
	}
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		resp, _ := serve(t, cannedSnapshot(), m)
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

// The source is read on every request: the page shows the state of now.
func TestSourceReadPerRequest(t *testing.T) {
	calls := 0
	h := Handler(func() status.Snapshot {
		calls++
		s := cannedSnapshot()
		s.Heartbeats[0].Name = fmt.Sprintf("backup-%d", calls)
		return s
	})
	for i := 1; i <= 2; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
		if want := fmt.Sprintf("backup-%d", i); !strings.Contains(rec.Body.String(), want) {
			t.Errorf("request %d does not show %s", i, want)
		}
	}
}

func TestEveryStateRendered(t *testing.T) {
	body := render(t, cannedSnapshot())
	seen := text(body)
	cards := regexp.MustCompile(`<article class="hb ([a-z-]+)" id="hb-\d+"`).FindAllStringSubmatch(body, -1)
	if len(cards) != 4 {
		t.Fatalf("%d cards, want 4", len(cards))
	}
	for i, want := range []struct{ class, name, label string }{
		{"s-ok", "backup", "OK"}, {"s-failing", "web", "Failing"}, {"s-degraded", "sync", "Degraded"}, {"s-pending", "nightly", "Pending"},
	} {
		if cards[i][1] != want.class {
			t.Errorf("card %d class %s, want %s", i, cards[i][1], want.class)
		}
		// The state is written as a word, not only as a colour.
		if !regexp.MustCompile(`<h3 id="hb-\d+-name" class="name">` + want.name + `</h3>\s*<span class="badge ` + want.class + `" data-state>` + want.label + `</span>`).MatchString(body) {
			t.Errorf("card %s lacks its state badge %q", want.name, want.label)
		}
	}
	for _, want := range []string{
		"1 failing", "1 degraded", "1 ok", "1 pending", "Ready",
		// frequency as written, the time zone, the check
		"every 5 minutes", "at 10:15 am (Europe/Stockholm)", "GET http://127.0.0.1:8080/health",
		// next beat: absolute and relative; in the heartbeat's zone
		"2026-03-14 09:31:03 UTC in 4m 10s", "2026-03-15 12:26:53 CET in 1d 2h", "not scheduled",
		// last result per target: signal, result, kind, detail, when
		"console log success delivered 50s ago",
		"kuma uptimekuma fail FAILED not_found 3s ago 404 Not Found: no such push token",
		"no beat yet", "No beat yet.",
		"Last beat: ok, 50s ago", "Last beat: check failed, 3s ago", "Last beat: degraded, 30s ago",
		// plugins
		"http restarting next try in 4s 3 exited: signal: killed", "log running 0", "pinned refused 0 sha256 does not match the pin in the config",
		"up 2h 5m",
	} {
		if !strings.Contains(seen, want) {
			t.Errorf("page lacks %q\n%s", want, seen)
		}
	}
	if !strings.Contains(body, `<time datetime="2026-03-14T09:31:03Z">`) {
		t.Error("next beat lacks a machine-readable time")
	}
	if title := regexp.MustCompile(`<title>(.*)</title>`).FindStringSubmatch(body); title == nil || title[1] != "1 failing, 1 degraded, 1 ok, 1 pending · heartbeat status" {
		t.Errorf("title %v", title)
	}
}

func TestTimeline(t *testing.T) {
	body := render(t, cannedSnapshot())
	cells := regexp.MustCompile(`<li class="beat (o-[a-z]+)" tabindex="0"><span class="glyph" aria-hidden="true">([^<]*)</span><span class="tip" role="tooltip">(.*?)</span></li>`).FindAllStringSubmatch(body, -1)
	type cell struct{ class, glyph string }
	want := []cell{{"o-ok", ""}, {"o-skipped", "-"}, {"o-ok", ""}, {"o-failed", "!"}, {"o-failed", "!"}, {"o-degraded", "~"}}
	if len(cells) != len(want) {
		t.Fatalf("%d timeline cells, want %d", len(cells), len(want))
	}
	for i, w := range want {
		if got := (cell{cells[i][1], cells[i][2]}); got != w {
			t.Errorf("cell %d = %+v, want %+v", i, got, w)
		}
	}
	// The tooltip: time, outcome, check message, each target's result.
	tip := text(cells[3][3])
	for _, want := range []string{"#7 · check failed · 2026-03-14 10:26:50 CET (3s ago) · took 1000 ms", "check FAILED, exit 7, 12 ms: connection refused", "kuma: fail FAILED (not_found), 40 ms — 404 Not Found: no such push token"} {
		if !strings.Contains(tip, want) {
			t.Errorf("tooltip %q lacks %q", tip, want)
		}
	}
	if tip := text(cells[5][3]); !strings.Contains(tip, "console: success delivered, 3.5 ms") || !strings.Contains(tip, "kuma: success FAILED (not_found)") {
		t.Errorf("degraded tooltip %q", tip)
	}
}

func TestTimelineBounded(t *testing.T) {
	s := cannedSnapshot()
	var beats []status.Beat
	for i := range 3 * status.MaxBeats {
		beats = append(beats, status.Beat{Sequence: uint64(i), StartedAt: now.Add(time.Duration(i-3*status.MaxBeats) * time.Second), Outcome: status.OutcomeOK})
	}
	s.Heartbeats[0].Beats = beats
	body := render(t, s)
	section := body[strings.Index(body, `id="hb-1"`):strings.Index(body, `id="hb-2"`)]
	if n := strings.Count(section, `<li class="beat`); n != status.MaxBeats {
		t.Errorf("%d cells, want the last %d", n, status.MaxBeats)
	}
	if !strings.Contains(section, fmt.Sprintf("#%d ·", 3*status.MaxBeats-1)) || strings.Contains(section, fmt.Sprintf("#%d ·", 2*status.MaxBeats-1)) {
		t.Error("the strip does not show the most recent beats")
	}
}

func TestHostileStringsEscaped(t *testing.T) {
	s := cannedSnapshot()
	hostile := `<script>alert(1)</script>"><img src=x onerror=alert(2)>`
	s.Heartbeats[0].Name = hostile
	s.Heartbeats[0].Frequency = "</style><script>alert(3)</script>"
	s.Heartbeats[0].Timezone = "Not/AZone<b>"
	s.Heartbeats[0].State = `bad" onmouseover="alert(4)`
	s.Heartbeats[0].Targets[0].Description = `" onmouseover="alert(5)`
	s.Heartbeats[0].Targets[0].LastDetail = hostile
	s.Heartbeats[0].Beats[0].Outcome = "<i>new</i>"
	s.Heartbeats[0].Beats[0].Deliveries[0].Detail = hostile
	s.Plugins[0].Name = hostile
	s.Plugins[0].State = "<u>odd</u>"
	body := render(t, s)
	for _, bad := range []string{"<script", "<img", "<b>", "<i>", "<u>", `" onmouseover`, "</style><"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q unescaped", bad)
		}
	}
	seen := text(body)
	for _, want := range []string{hostile, "</style><script>alert(3)</script>", `bad" onmouseover="alert(4)`, "<i>new</i>", "<u>odd</u>"} {
		if !strings.Contains(seen, want) {
			t.Errorf("page does not show %q as text", want)
		}
	}
	// An unknown state gets a neutral class, never one made of the input.
	if !strings.Contains(body, `<article class="hb s-unknown" id="hb-1"`) {
		t.Error("unknown state not shown with the neutral class")
	}
}

func TestLongStringsCut(t *testing.T) {
	s := cannedSnapshot()
	long := strings.Repeat("x", 5000)
	s.Heartbeats[1].Name = strings.Repeat("n", 1000)
	s.Heartbeats[1].Targets[0].LastDetail = "start " + long
	s.Heartbeats[1].Beats[0].Deliveries[0].Detail = long
	s.Heartbeats[1].Beats[0].Check.Message = "line one\nline two\x1b[31m " + long
	s.Plugins[0].Detail = long
	body := render(t, s)
	if strings.Contains(body, strings.Repeat("x", maxTip+1)) || strings.Contains(body, strings.Repeat("n", maxName+1)) {
		t.Error("a long string is not cut")
	}
	if !strings.Contains(body, strings.Repeat("n", maxName)+"…") {
		t.Error("a cut name is not marked with an ellipsis")
	}
	if !regexp.MustCompile(`<span title="start x{` + fmt.Sprint(maxTip-6) + `}…">start x{` + fmt.Sprint(maxShort-6) + `}…</span>`).MatchString(body) {
		t.Error("a long detail is not cut on the card with the longer form in its title")
	}
	if !strings.Contains(body, "line one line two [31m") || strings.Contains(body, "\x1b") {
		t.Error("control characters are not replaced")
	}
	if len(body) > 64<<10 {
		t.Errorf("page is %d bytes", len(body))
	}
}

func TestEmptySnapshot(t *testing.T) {
	for name, s := range map[string]status.Snapshot{
		"zero":     {},
		"no beats": {Version: 1, GeneratedAt: now, Heartbeats: []status.Heartbeat{}, Plugins: []status.Plugin{}},
	} {
		t.Run(name, func(t *testing.T) {
			seen := text(render(t, s))
			for _, want := range []string{"No heartbeats", "No plugin processes", "Not ready", "Generated"} {
				if !strings.Contains(seen, want) {
					t.Errorf("page lacks %q: %s", want, seen)
				}
			}
		})
	}
}

func TestManyHeartbeatsBounded(t *testing.T) {
	s := status.Snapshot{GeneratedAt: now}
	for i := range maxHeartbeats + 7 {
		s.Heartbeats = append(s.Heartbeats, status.Heartbeat{Name: fmt.Sprintf("hb%d", i), State: status.StateOK})
	}
	body := render(t, s)
	if n := strings.Count(body, `<article class="hb`); n != maxHeartbeats {
		t.Errorf("%d cards", n)
	}
	if !strings.Contains(body, "and 7 more heartbeats") {
		t.Error("the cut is not said")
	}
}

func TestSpan(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"}, {999 * time.Millisecond, "0s"}, {42 * time.Second, "42s"}, {4*time.Minute + 10*time.Second, "4m 10s"},
		{3*time.Hour + 5*time.Minute + 59*time.Second, "3h 5m"}, {50 * time.Hour, "2d 2h"}, {-90 * time.Second, "1m 30s"},
	} {
		if got := status.Span(c.d); got != c.want {
			t.Errorf("Span(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestAt(t *testing.T) {
	for _, c := range []struct {
		offset time.Duration
		want   string
	}{{10 * time.Second, "in 10s"}, {500 * time.Millisecond, "due now"}, {0, "due now"}, {-500 * time.Millisecond, "just now"}, {-2 * time.Minute, "2m 0s ago"}} {
		if got := at(now.Add(c.offset), now, time.UTC).Rel; got != c.want {
			t.Errorf("at(%v) = %q, want %q", c.offset, got, c.want)
		}
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"four", "four"},
		{"abcdef", "abcd…"},
		{"ab  cdef", "ab…"},
		{"a\nb\x1b", "a b "},
		{"a\xffb", "a\uFFFDb"},
		{"héllo wörld", "héll…"},
		{strings.Repeat("é", 100000), strings.Repeat("é", 4) + "…"},
		{"\u2028x\u0085", " x "},
	} {
		if got := clip(c.in, 4); got != c.want {
			t.Errorf("clip(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := clip(c.in, 4); !utf8.ValidString(got) {
			t.Errorf("clip(%q) is not valid UTF-8", c.in)
		}
	}
}
