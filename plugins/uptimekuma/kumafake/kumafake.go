// Package kumafake is an in-process Uptime Kuma push API for tests.
//
// It reproduces what real Uptime Kuma servers (1.23.17 and 2.5.3) answer on
// /api/push/<token>, as recorded in the project's Uptime Kuma spec
// (spec/uptime-kuma.md, "Uptime Kuma push monitors — observed behaviour").
// Every behaviour below cites the row of that spec it reproduces; the few
// behaviours the spec does not record are marked "not in the spec" and follow
// Uptime Kuma's source (server/routers/api-router.js, server/server.js).
//
// The fake records every request to the push route, lets tests add, pause
// and remove monitors, and stores the heartbeat rows a real server would.
package kumafake

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// Version selects the Uptime Kuma release the fake behaves like.
type Version string

// The releases the spec was recorded against.
const (
	V1 Version = "1.23.17"
	V2 Version = "2.5.3"
)

// Messages and limits of Uptime Kuma's push handler.
const (
	// MsgNotFound answers a wrong token, a paused monitor and (2.x) an empty
	// token alike. Spec: rows "wrong token, or paused monitor" and "empty token".
	MsgNotFound = "Monitor not found or not active."
	// MsgInvalidPing answers a ping out of range on 2.x. Spec: row "ping".
	MsgInvalidPing = "Invalid ping value. Must be between 0 and 100000000000 ms."
	// MaxPingMS is the largest ping 2.x accepts. Spec: row "ping".
	MaxPingMS = 100000000000
	// MsgNoHeartbeat is the message of the rows the server adds itself.
	// Spec: "What the server records".
	MsgNoHeartbeat = "No heartbeat in the time window"
	// DefaultMsg is stored when a push has no msg. Spec: row "msg".
	DefaultMsg = "OK"
	// TokenLength is the length of the tokens Uptime Kuma generates.
	TokenLength = 32
)

// Status is a heartbeat row's status, with Uptime Kuma's numbers.
// Spec: "What the server records".
type Status int

// The statuses of a heartbeat row.
const (
	Down        Status = 0
	Up          Status = 1
	Pending     Status = 2
	Maintenance Status = 3
)

func (s Status) String() string {
	switch s {
	case Down:
		return "DOWN"
	case Up:
		return "UP"
	case Pending:
		return "PENDING"
	case Maintenance:
		return "MAINTENANCE"
	}
	return strconv.Itoa(int(s))
}

// Heartbeat is one stored heartbeat row. Spec: "What the server records".
type Heartbeat struct {
	Status Status
	Msg    string
	// Ping is nil when the push carried no usable ping.
	Ping *float64
	// Time is in UTC.
	Time time.Time
	// Important is true when the status changed.
	Important bool
}

// TimeString formats Time as Uptime Kuma stores it.
func (h Heartbeat) TimeString() string { return h.Time.UTC().Format("2006-01-02 15:04:05.000") }

// Push is one request the fake received on the push route.
type Push struct {
	Method string
	// Path is the escaped request path, including any Prefix.
	Path string
	// Token is the decoded push token from the path.
	Token string
	// RawQuery is the query as sent; Query is it decoded.
	RawQuery string
	Query    url.Values
	// Status, Msg and Ping are the first values of those query parameters
	// ("" when absent); Query has them all.
	Status, Msg, Ping string
	UserAgent         string
	ContentType       string
	// Code and Body are what the fake answered.
	Code int
	Body string
	// Beat is the heartbeat row the push stored, nil when it stored none.
	Beat *Heartbeat
}

// Options configure a fake server.
type Options struct {
	// Version defaults to V2.
	Version Version
	// Prefix serves Uptime Kuma below a path, like a reverse proxy forwarding
	// https://example.com/kuma/ to it, e.g. "/kuma". Requests outside it get
	// the proxy's 404.
	Prefix string
	// TLS starts an HTTPS server with httptest's self-signed certificate.
	TLS bool
	// Now is the clock for heartbeat times; time.Now when nil.
	Now func() time.Time
}

// Server is a running fake Uptime Kuma. It is also an http.Handler, so a
// test can put its own server (a failing proxy, say) in front of it.
type Server struct {
	*httptest.Server

	version Version
	prefix  string
	now     func() time.Time

	mu       sync.Mutex
	monitors map[string]*monitor
	pushes   []Push
	failNext []string
}

type monitor struct {
	active      bool
	maintenance bool
	retries     int
	interval    time.Duration
	// retriesUsed counts the PENDING rows since the last UP.
	retriesUsed int
	beats       []Heartbeat
}

// New starts a fake Uptime Kuma and closes it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{
		version:  opts.Version,
		prefix:   strings.TrimRight(opts.Prefix, "/"),
		now:      opts.Now,
		monitors: map[string]*monitor{},
	}
	if s.version == "" {
		s.version = V2
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.TLS {
		s.Server = httptest.NewTLSServer(s)
	} else {
		s.Server = httptest.NewServer(s)
	}
	t.Cleanup(s.Close)
	return s
}

// Version is the release the fake behaves like.
func (s *Server) Version() Version { return s.version }

// BaseURL is where Uptime Kuma is served, including any Prefix.
func (s *Server) BaseURL() string { return s.URL + s.prefix }

// PushURL is the push URL the UI shows for token. Spec: "The push URL the UI
// shows is https://<host>/api/push/<token>?status=up&msg=OK&ping=".
func (s *Server) PushURL(token string) string {
	return s.BaseURL() + "/api/push/" + url.PathEscape(token) + "?status=up&msg=OK&ping="
}

// AddMonitor adds an active push monitor with a generated token, as the UI
// does, and returns the token.
func (s *Server) AddMonitor() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, TokenLength)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("kumafake: reading random bytes: %v", err))
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	token := string(b)
	s.AddMonitorWithToken(token)
	return token
}

// AddMonitorWithToken adds (or replaces) an active push monitor with token.
func (s *Server) AddMonitorWithToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.monitors[token] = &monitor{active: true}
}

// RemoveMonitor deletes the monitor with token.
func (s *Server) RemoveMonitor(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.monitors, token)
}

// Pause pauses the monitor: pushes get the "not found" answer.
// Spec: row "wrong token, or paused monitor".
func (s *Server) Pause(token string) { s.update(token, func(m *monitor) { m.active = false }) }

// Resume un-pauses the monitor.
func (s *Server) Resume(token string) { s.update(token, func(m *monitor) { m.active = true }) }

// SetRetries sets the monitor's retries (2.x stores DOWN after UP as PENDING
// for that many beats). Spec: row "status", 2.5.3 column.
func (s *Server) SetRetries(token string, retries int) {
	s.update(token, func(m *monitor) { m.retries = retries })
}

// SetMaintenance puts the monitor in (or out of) a maintenance window:
// pushes are stored as MAINTENANCE. Spec: "What the server records"
// (status 3 MAINTENANCE).
func (s *Server) SetMaintenance(token string, on bool) {
	s.update(token, func(m *monitor) { m.maintenance = on })
}

// SetInterval sets the monitor's heartbeat interval, used by CheckWindow.
func (s *Server) SetInterval(token string, interval time.Duration) {
	s.update(token, func(m *monitor) { m.interval = interval })
}

func (s *Server) update(token string, f func(*monitor)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.monitors[token]
	if !ok {
		panic(fmt.Sprintf("kumafake: no monitor with token %q", token))
	}
	f(m)
}

// FailNext makes the next push that finds its monitor fail with msg, the
// way any other server-side error (a database error, say) is answered.
// Spec: row "any other server-side error".
func (s *Server) FailNext(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, msg)
}

// Pushes returns every request received on the push route, oldest first.
func (s *Server) Pushes() []Push {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Push, len(s.pushes))
	copy(out, s.pushes)
	return out
}

// LastPush returns the newest push, if any.
func (s *Server) LastPush() (Push, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pushes) == 0 {
		return Push{}, false
	}
	return s.pushes[len(s.pushes)-1], true
}

// Beats returns the heartbeat rows of the monitor with token, oldest first.
func (s *Server) Beats(token string) []Heartbeat {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.monitors[token]
	if !ok {
		return nil
	}
	out := make([]Heartbeat, len(m.beats))
	copy(out, m.beats)
	return out
}

// CheckWindow runs the server's own check of the monitor, as it does every
// interval: if the last beat is older than interval + 1 s, or is not UP, it
// stores a DOWN (or PENDING) row "No heartbeat in the time window".
// Spec: "The server also adds rows of its own". It reports whether a row
// was added. Paused monitors and monitors in maintenance are not checked.
func (s *Server) CheckWindow(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.monitors[token]
	if !ok || !m.active || m.maintenance {
		return false
	}
	now := s.now().UTC()
	if n := len(m.beats); n > 0 {
		last := m.beats[n-1]
		if last.Status == Up && now.Sub(last.Time) <= m.interval+time.Second {
			return false
		}
	}
	s.store(m, Down, MsgNoHeartbeat, nil, now)
	return true
}

// ServeHTTP answers like Uptime Kuma.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	if s.prefix != "" {
		// Not in the spec: what a reverse proxy answers outside its prefix.
		if path != s.prefix && !strings.HasPrefix(path, s.prefix+"/") {
			http.NotFound(w, r)
			return
		}
		path = strings.TrimPrefix(path, s.prefix)
	}
	rawToken, onRoute := pushRoute(path)
	if !onRoute {
		s.fallback(w, r, path)
		return
	}
	token, err := url.PathUnescape(rawToken)
	if err != nil {
		// Not in the spec: Express answers 400 when it cannot decode a param.
		p := s.newPush(r, rawToken)
		s.finish(w, &p, expressError(http.StatusBadRequest, "Bad Request"))
		return
	}
	p := s.newPush(r, token)

	if s.version == V1 {
		if token == "" {
			// Spec: row "empty token" records nothing for 1.23.17; 1.x's
			// route needs a token, so the request falls through to the
			// rest of the app (not in the spec).
			s.finish(w, &p, s.fallbackAnswer(r.Method, path))
			return
		}
		// Spec: row "methods", 1.23.17: GET and HEAD record a beat,
		// POST/PUT -> 404 HTML page "Cannot POST /api/push/<token>".
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.finish(w, &p, expressError(http.StatusNotFound, "Cannot "+r.Method+" "+path))
			return
		}
	} else {
		// Spec: row "where params are read", 2.5.3: a body sent with
		// Content-Type: application/json that is not valid JSON -> 400
		// HTML "Bad Request"; any other body is ignored.
		if isJSON(r.Header.Get("Content-Type")) {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if len(body) > 0 && !json.Valid(body) {
				s.finish(w, &p, expressError(http.StatusBadRequest, "Bad Request"))
				return
			}
		}
		// Spec: row "methods", 2.5.3: any method records a beat.
	}
	s.finish(w, &p, s.push(&p))
}

// pushRoute matches Express's "/api/push/:pushToken": one path segment,
// with an optional trailing slash. The empty token is reported as on the
// route; callers decide by version.
func pushRoute(path string) (token string, ok bool) {
	const route = "/api/push"
	if len(path) < len(route) || !strings.EqualFold(path[:len(route)], route) {
		return "", false
	}
	rest := path[len(route):]
	switch {
	case rest == "" || rest == "/":
		return "", true
	case rest[0] != '/':
		return "", false
	}
	rest = strings.TrimSuffix(rest[1:], "/")
	if strings.Contains(rest, "/") {
		return "", false
	}
	return rest, true
}

// answer is a response the fake is about to send.
type answer struct {
	code        int
	contentType string
	body        string
	beat        *Heartbeat
}

// push runs Uptime Kuma's push handler on a request that reached it.
func (s *Server) push(p *Push) answer {
	// Spec: row "status": missing -> up; exactly "up" -> UP; anything else
	// -> DOWN. Not in the spec: an empty status is also "up", as the
	// source's `status || "up"` treats "" like a missing value.
	status := Up
	if vals := p.Query["status"]; len(vals) > 1 || (len(vals) == 1 && vals[0] != "" && vals[0] != "up") {
		status = Down
	}
	// Spec: row "msg": missing or empty -> "OK", stored verbatim; a repeated
	// msg is stored as "[object Object]".
	msg := DefaultMsg
	switch vals := p.Query["msg"]; {
	case len(vals) > 1:
		msg = "[object Object]"
	case len(vals) == 1 && vals[0] != "":
		msg = vals[0]
	}
	// Spec: row "ping": parseFloat(ping) || null.
	var ping *float64
	if vals, ok := p.Query["ping"]; ok {
		if f, ok := parseFloat(strings.Join(vals, ",")); ok && f != 0 {
			ping = &f
		}
	}
	// Spec: row "ping", 2.5.3: ping < 0 or > 100000000000 -> 404. The source
	// validates before looking the monitor up (not in the spec).
	if s.version == V2 && ping != nil && (*ping < 0 || *ping > MaxPingMS) {
		return kumaError(MsgInvalidPing)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.monitors[p.Token]
	// Spec: rows "wrong token, or paused monitor" and "empty token".
	if !ok || !m.active {
		return kumaError(MsgNotFound)
	}
	// Spec: row "any other server-side error".
	if len(s.failNext) > 0 {
		msg := s.failNext[0]
		s.failNext = s.failNext[1:]
		return kumaError(msg)
	}
	if m.maintenance {
		status = Maintenance
	}
	beat := s.store(m, status, msg, ping, s.now().UTC())
	// Spec: row "success": 200 {"ok":true}.
	return answer{code: http.StatusOK, contentType: "application/json; charset=utf-8", body: `{"ok":true}`, beat: &beat}
}

// store appends a heartbeat row. With retries > 0, 2.x stores a DOWN after
// UP as PENDING for that many beats (spec: row "status", 2.5.3 column).
// Important marks a status change (spec: "What the server records").
// Callers hold s.mu.
func (s *Server) store(m *monitor, status Status, msg string, ping *float64, now time.Time) Heartbeat {
	var prev *Heartbeat
	if n := len(m.beats); n > 0 {
		prev = &m.beats[n-1]
	}
	switch status {
	case Up:
		m.retriesUsed = 0
	case Down:
		if s.version == V2 && prev != nil && (prev.Status == Up || prev.Status == Pending) && m.retriesUsed < m.retries {
			status = Pending
			m.retriesUsed++
		}
	}
	h := Heartbeat{Status: status, Msg: msg, Ping: ping, Time: now, Important: prev == nil || prev.Status != status}
	m.beats = append(m.beats, h)
	return h
}

func (s *Server) newPush(r *http.Request, token string) Push {
	q := r.URL.Query()
	return Push{
		Method:      r.Method,
		Path:        r.URL.EscapedPath(),
		Token:       token,
		RawQuery:    r.URL.RawQuery,
		Query:       q,
		Status:      q.Get("status"),
		Msg:         q.Get("msg"),
		Ping:        q.Get("ping"),
		UserAgent:   r.UserAgent(),
		ContentType: r.Header.Get("Content-Type"),
	}
}

// finish records p with its answer and sends the answer.
func (s *Server) finish(w http.ResponseWriter, p *Push, a answer) {
	p.Code, p.Body, p.Beat = a.code, a.body, a.beat
	s.mu.Lock()
	s.pushes = append(s.pushes, *p)
	s.mu.Unlock()
	a.write(w)
}

func (a answer) write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", a.contentType)
	if strings.HasPrefix(a.contentType, "text/html") && a.code >= 400 {
		// Express's error page comes with these headers.
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(a.code)
	_, _ = io.WriteString(w, a.body)
}

// kumaError is how the push handler answers every error: 404 with JSON.
// Spec: rows "wrong token, or paused monitor" and "any other server-side
// error".
func kumaError(msg string) answer {
	body, _ := json.Marshal(struct {
		OK  bool   `json:"ok"`
		Msg string `json:"msg"`
	}{false, msg})
	return answer{code: http.StatusNotFound, contentType: "application/json; charset=utf-8", body: string(body)}
}

// expressError is Express's HTML error page, e.g. "Cannot POST /api/push/x"
// (spec: row "methods", 1.23.17) or "Bad Request" (spec: row "where params
// are read", 2.5.3).
func expressError(code int, text string) answer {
	body := "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>" +
		html.EscapeString(text) + "</pre>\n</body>\n</html>\n"
	return answer{code: code, contentType: "text/html; charset=utf-8", body: body}
}

// fallback answers paths outside the push route (not in the spec): Uptime
// Kuma serves its web app's index page to any other GET, and Express's 404
// page to other methods.
func (s *Server) fallback(w http.ResponseWriter, r *http.Request, path string) {
	s.fallbackAnswer(r.Method, path).write(w)
}

func (s *Server) fallbackAnswer(method, path string) answer {
	if method == http.MethodGet || method == http.MethodHead {
		return answer{code: http.StatusOK, contentType: "text/html; charset=utf-8", body: indexHTML}
	}
	return expressError(http.StatusNotFound, "Cannot "+method+" "+path)
}

const indexHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<title>Uptime Kuma</title>
</head>
<body>
<noscript>Uptime Kuma needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// parseFloat is JavaScript's parseFloat: leading white space is skipped and
// the longest prefix that is a decimal number (or Infinity) is parsed; ok is
// false where JavaScript returns NaN.
func parseFloat(s string) (float64, bool) {
	s = strings.TrimLeftFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' })
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	if strings.HasPrefix(s[i:], "Infinity") {
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j, digits = j+1, digits+1
		}
		if digits > 0 {
			i = j
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		if k > j {
			i = k
		}
	}
	// Out of range parses to ±Inf, as in JavaScript.
	f, _ := strconv.ParseFloat(s[:i], 64)
	return f, true
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }
