// Package bsfake is a fake Better Stack (Better Uptime) heartbeat endpoint
// for tests.
//
// It answers as the project's Better Stack spec (spec/betterstack.md,
// "Better Stack (Better Uptime) heartbeats — what a client must know";
// quoted below as "spec, <section>") says the service does. Better Stack
// publishes no server code and documents no answers, so the spec's
// "Responses" section recommends how a client treats them; the fake
// plays exactly the answers that table names (2xx, 404, 408, 429, 5xx).
// Behaviours the spec leaves open are marked "not in the spec" and are the
// fake's own documented choice.
//
// The fake records every request and every report it stores, and keeps
// each heartbeat's state (pending, up, down) as the spec describes it.
package bsfake

import (
	"crypto/rand"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/internal/fakeserver"
)

// DefaultPrefix is the path of heartbeat URLs on uptime.betterstack.com
// (spec, URL forms: "https://uptime.betterstack.com/api/v1/heartbeat/<HEARTBEAT_TOKEN>").
const DefaultPrefix = "/api/v1/heartbeat/"

// MaxBody is how much of a request body the fake reads and stores. Not in
// the spec (spec, Methods and body: "Body size limit: not documented"):
// a bound that no heartbeat report reaches.
const MaxBody = 1 << 20

// Kind is what a stored report does to its heartbeat.
type Kind string

// Report kinds (spec, URL forms and Signal mapping).
const (
	// KindSuccess is a request to the heartbeat URL, or to …/0 (spec, URL
	// forms: "Exit code `0` counts as success").
	KindSuccess Kind = "success"
	// KindFailure is …/fail or …/<non-zero exit code> (spec, URL forms:
	// "failure | …/heartbeat/<HEARTBEAT_TOKEN>/fail"; "Non-zero = failure").
	KindFailure Kind = "failure"
)

// Status is a heartbeat monitor's state.
type Status string

// Heartbeat states.
const (
	// Pending is a heartbeat that never received a request (spec, URL
	// forms: "The heartbeat stays "Pending" until its first request").
	Pending Status = "pending"
	// Up is a heartbeat that received requests and has no open incident.
	Up Status = "up"
	// Down is a heartbeat with an open incident, opened by a failure
	// (spec, Purpose: "Failures can also be reported explicitly").
	Down Status = "down"
)

// State switches a heartbeat into a state that produces one of the rows of
// the spec's Responses table.
type State int

const (
	// Active records reports: 2xx (spec, Responses: "2xx | success").
	Active State = iota
	// Deleted makes the token unknown: 404 (spec, Responses: "404
	// (expected for an unknown/deleted token; unverified)").
	Deleted
	// RateLimited answers 429 with a Retry-After header (spec, Responses:
	// "408, 429, 5xx … honour `Retry-After` if present"; the limits
	// themselves are not documented, spec, Rate limits).
	RateLimited
	// Failing answers 500 (spec, Responses: "5xx").
	Failing
)

// Report is a report the server stored.
type Report struct {
	Token string
	Kind  Kind
	// ExitCode is set for …/<exit code> reports.
	ExitCode *int
	Method   string
	// Body is the request body as received (spec, Methods and body: "A
	// POST body is attached to the report").
	Body        []byte
	ContentType string
	UserAgent   string
	Time        time.Time
}

// Request is one request the server received, whatever it answered.
type Request struct {
	Method string
	// Path is the URL path, prefix included.
	Path     string
	RawQuery string
	Body     []byte
	// ContentLength is -1 when unknown (chunked).
	ContentLength int64
	ContentType   string
	UserAgent     string
	Header        http.Header
	// Status and Answer are what the fake answered.
	Status int
	Answer string
	// Report is what was stored, nil when nothing was.
	Report *Report
}

// Config sets up a fake server. The zero value serves heartbeats at
// DefaultPrefix over plain HTTP.
type Config struct {
	// Prefix is the path heartbeat URLs start with; DefaultPrefix when "".
	Prefix string
	// TLS serves HTTPS with httptest's certificate.
	TLS bool
}

type heartbeat struct {
	state  State
	status Status
}

// Server is a running fake. Its methods are safe for concurrent use.
// During an outage (SetOutage) every request gets the status with its
// status text, and is still recorded.
type Server struct {
	*fakeserver.HTTP
	fakeserver.Faults
	fakeserver.RetryAfterHeader
	fakeserver.Log[Request]
	prefix string

	mu         sync.Mutex
	heartbeats map[string]*heartbeat
}

// New starts a fake server and closes it when the test ends.
func New(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s := Start(cfg)
	tb.Cleanup(s.Close)
	return s
}

// Start starts a fake server; Close stops it.
func Start(cfg Config) *Server {
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	prefix = "/" + strings.Trim(prefix, "/") + "/"
	prefix = strings.ReplaceAll(prefix, "//", "/")
	s := &Server{prefix: prefix, heartbeats: map[string]*heartbeat{}}
	// 429 answers carry Retry-After: 60 unless a test sets another
	// value, or "" for none.
	s.SetRetryAfter("60")
	s.HTTP = fakeserver.Start(s, cfg.TLS)
	return s
}

// BaseURL is what heartbeat URLs start with (base_url), ending with a
// slash.
func (s *Server) BaseURL() string { return s.URL() + s.prefix }

// HeartbeatURL is a heartbeat's URL as Better Stack shows it.
func (s *Server) HeartbeatURL(token string) string { return s.BaseURL() + token }

// NewToken returns a random token like those in public heartbeat URLs
// (spec, URL forms: "e.g. 24 alphanumerics in URLs seen in public code").
func NewToken() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	var b [24]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}

// AddHeartbeat registers a heartbeat monitor with token and returns the
// token. It starts pending.
func (s *Server) AddHeartbeat(token string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.heartbeats[token] = &heartbeat{status: Pending}
	return token
}

// SetState switches the heartbeat with token into st.
func (s *Server) SetState(token string, st State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.heartbeats[token]; h != nil {
		h.state = st
	}
}

// Status is the heartbeat's state as Better Stack would show it; "" for an
// unknown token.
func (s *Server) Status(token string) Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.heartbeats[token]; h != nil {
		return h.status
	}
	return ""
}

// Reports returns the reports stored for token, oldest first; every
// stored report when token is "".
func (s *Server) Reports(token string) []Report {
	var out []Report
	for _, r := range s.Requests() {
		if r.Report != nil && (token == "" || r.Report.Token == token) {
			out = append(out, *r.Report)
		}
	}
	return out
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Wait(r.Context())
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody))
	if err != nil {
		return // the client hung up mid-body
	}
	rec := Request{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Body: body,
		ContentLength: r.ContentLength, ContentType: r.Header.Get("Content-Type"),
		UserAgent: r.UserAgent(), Header: r.Header.Clone(),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, answer, header := s.route(r, body, &rec)
	rec.Status, rec.Answer = status, answer
	s.Record(rec)
	fakeserver.WriteText(w, status, answer, header)
}

// route answers a request; it runs with s.mu held.
func (s *Server) route(r *http.Request, body []byte, rec *Request) (int, string, http.Header) {
	if outage := s.Outage(); outage != 0 {
		return outage, http.StatusText(outage), nil
	}
	rest, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	if !ok {
		// Not in the spec: any path outside the heartbeat API is unknown.
		return http.StatusNotFound, "Not Found", nil
	}
	// Not in the spec: a trailing slash is ignored, as Rails routes do.
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	token := segs[0]
	kind := KindSuccess
	var exit *int
	switch {
	case len(segs) == 1 && token != "":
		// spec, URL forms: "success (heartbeat) | …/heartbeat/<HEARTBEAT_TOKEN>".
	case len(segs) == 2 && segs[1] == "fail":
		// spec, URL forms: "failure | …/heartbeat/<HEARTBEAT_TOKEN>/fail".
		kind = KindFailure
	case len(segs) == 2 && isDigits(segs[1]):
		// spec, URL forms: "exit status | …/heartbeat/<HEARTBEAT_TOKEN>/<exit_code>";
		// "Exit code `0` counts as success … Non-zero = failure". The
		// accepted range is not documented: the fake takes any number.
		code, err := strconv.Atoi(segs[1])
		if err != nil {
			code = 1 << 30
		}
		exit = &code
		if code != 0 {
			kind = KindFailure
		}
	default:
		// Not in the spec: no other route is documented (spec, URL forms:
		// "No start/run signal, no separate log endpoint").
		return http.StatusNotFound, "Not Found", nil
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		// spec, Methods and body: "GET or POST to the URL"; other methods
		// are not documented, and the fake refuses them.
		return http.StatusMethodNotAllowed, "Method Not Allowed", http.Header{"Allow": {"GET, POST"}}
	}
	h := s.heartbeats[token]
	if h == nil || h.state == Deleted {
		// spec, Responses: "404 (expected for an unknown/deleted token;
		// unverified) | do not retry".
		return http.StatusNotFound, "Not Found", nil
	}
	switch h.state {
	case RateLimited:
		// spec, Responses: "429 … honour `Retry-After` if present".
		hdr := http.Header{}
		if ra := s.RetryAfter(); ra != "" {
			hdr.Set("Retry-After", ra)
		}
		return http.StatusTooManyRequests, "Too Many Requests", hdr
	case Failing:
		// spec, Responses: "5xx … retry with backoff".
		return http.StatusInternalServerError, "Internal Server Error", nil
	}
	rec.Report = &Report{
		Token: token, Kind: kind, ExitCode: exit, Method: r.Method,
		Body: append([]byte(nil), body...), ContentType: r.Header.Get("Content-Type"),
		UserAgent: r.UserAgent(), Time: time.Now(),
	}
	// A failure opens an incident; …/0 resolves it (spec, URL forms: "Exit
	// code `0` counts as success and also resolves an open incident"). Not
	// in the spec: whether a request to the plain heartbeat URL resolves
	// one too. The fake assumes the worst: it records the heartbeat and
	// turns a pending heartbeat up, but leaves an open incident open.
	switch {
	case kind == KindFailure:
		h.status = Down
	case exit != nil || h.status == Pending:
		h.status = Up
	}
	// Not in the spec (spec, Responses: "Not documented … no status codes,
	// no body format"): the fake answers 200 with a short text body.
	return http.StatusOK, "OK", nil
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
