// Package dmsfake is a fake Dead Man's Snitch check-in endpoint
// (https://nosnch.in/<token>) for tests.
//
// It answers as the project's Dead Man's Snitch spec
// (spec/deadmanssnitch.md, "Dead Man's Snitch check-ins — what a client
// must know"; quoted below as "spec, <section>") says the service does.
// The spec documents only the accepted check-in; for the other rows of its
// Responses table ("not documented") the fake plays the answers the
// table's client actions assume (404 for an unknown token, 5xx), and a 429
// to exercise rate limiting. Behaviours the spec leaves open are marked
// "not in the spec" and are the fake's own documented choice.
//
// The fake records every request and every check-in it stores, and keeps
// each snitch's state as the spec names them.
package dmsfake

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seed-e9b80cf6/heartbeat/plugins/internal/fakeserver"
)

// Accepted is the body of an accepted check-in (spec, Responses:
// "accepted | 2xx; body text `Got it, thanks!`").
const Accepted = "Got it, thanks!"

// AcceptedStatus is the status of an accepted check-in. Not in the spec,
// which says only "2xx": the fake answers 202.
const AcceptedStatus = http.StatusAccepted

// MaxMessage is the length of m the service keeps (spec, Methods and
// parameters: "`m` | string, "limited to ~250 characters""). Not in the
// spec: what happens to a longer m; the fake keeps its first MaxMessage
// characters, and Request.Query holds what was sent.
const MaxMessage = 250

// State is a snitch's state (spec, Methods and parameters: "Snitch states:
// `pending`, `healthy`, `missing`, `errored`, `paused` [WH]").
type State string

// Snitch states. The fake has no clock of intervals, so a snitch is never
// missing; and pausing is a management API call the fake does not serve.
const (
	Pending State = "pending"
	Healthy State = "healthy"
	// Errored is "the Snitch ran but reported an error during execution"
	// (spec, Methods and parameters).
	Errored State = "errored"
)

// Mode switches a snitch into one of the answers of the spec's Responses
// table.
type Mode int

const (
	// Active takes check-ins (spec, Responses: "accepted").
	Active Mode = iota
	// Deleted makes the token unknown: 404 (spec, Responses: "unknown
	// token | not documented | treat 404 as "snitch not found"").
	Deleted
	// RateLimited answers 429 with Retry-After. Not in the spec ("Rate
	// limits: not documented"): for the client's handling of a proxy's or
	// a future limit.
	RateLimited
	// Failing answers 500 (spec, Responses: "timeouts, 5xx, network |
	// retry with backoff").
	Failing
)

// CheckIn is a check-in the server stored.
type CheckIn struct {
	Token string
	// Message is m, cut to MaxMessage characters; "" when absent.
	Message string
	// Status is s as sent; nil when absent.
	Status *string
	// Failed is whether s marks a failure (spec, Methods and parameters:
	// "missing, `0` or empty = success; any other value = failure").
	Failed    bool
	UserAgent string
	Time      time.Time
}

// Request is one request the server received, whatever it answered.
type Request struct {
	Method string
	Path   string
	// RawQuery is the query as sent; Query is it decoded.
	RawQuery string
	Query    url.Values
	// BodyLen is how many body bytes came (GET check-ins have none).
	BodyLen   int
	UserAgent string
	Header    http.Header
	// Status and Answer are what the fake answered.
	Status int
	Answer string
	// CheckIn is what was stored, nil when nothing was.
	CheckIn *CheckIn
}

// Config sets up a fake server. The zero value serves check-ins at the
// root, as nosnch.in does, over plain HTTP.
type Config struct {
	// Prefix is a path before the token, as a proxy would add; "" for
	// none.
	Prefix string
	// TLS serves HTTPS with httptest's certificate.
	TLS bool
}

type snitch struct {
	mode  Mode
	state State
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

	mu       sync.Mutex
	snitches map[string]*snitch
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
	prefix := "/" + strings.Trim(cfg.Prefix, "/") + "/"
	prefix = strings.ReplaceAll(prefix, "//", "/")
	s := &Server{prefix: prefix, snitches: map[string]*snitch{}}
	// 429 answers carry Retry-After: 60 unless a test sets another
	// value, or "" for none.
	s.SetRetryAfter("60")
	s.HTTP = fakeserver.Start(s, cfg.TLS)
	return s
}

// BaseURL is what check-in URLs start with (base_url), ending with a
// slash.
func (s *Server) BaseURL() string { return s.URL() + s.prefix }

// SnitchURL is a snitch's check-in URL, as https://nosnch.in/<token>.
func (s *Server) SnitchURL(token string) string { return s.BaseURL() + token }

// NewToken returns a random token in the form of the spec's examples
// (spec, URL: "`c2354d53d2` in every example: 10 lowercase hex
// characters").
func NewToken() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// AddSnitch registers a snitch with token and returns the token. It starts
// pending.
func (s *Server) AddSnitch(token string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snitches[token] = &snitch{state: Pending}
	return token
}

// SetMode switches the snitch with token into m.
func (s *Server) SetMode(token string, m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sn := s.snitches[token]; sn != nil {
		sn.mode = m
	}
}

// State is the snitch's state; "" for an unknown token.
func (s *Server) State(token string) State {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sn := s.snitches[token]; sn != nil {
		return sn.state
	}
	return ""
}

// CheckIns returns the check-ins stored for token, oldest first; every
// stored check-in when token is "".
func (s *Server) CheckIns(token string) []CheckIn {
	var out []CheckIn
	for _, r := range s.Requests() {
		if r.CheckIn != nil && (token == "" || r.CheckIn.Token == token) {
			out = append(out, *r.CheckIn)
		}
	}
	return out
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Wait(r.Context())
	n, err := io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return // the client hung up mid-body
	}
	rec := Request{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Query: r.URL.Query(),
		BodyLen: int(n), UserAgent: r.UserAgent(), Header: r.Header.Clone(),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, answer, header := s.route(r, &rec)
	rec.Status, rec.Answer = status, answer
	s.Record(rec)
	fakeserver.WriteText(w, status, answer, header)
}

// route answers a request; it runs with s.mu held.
func (s *Server) route(r *http.Request, rec *Request) (int, string, http.Header) {
	if outage := s.Outage(); outage != 0 {
		return outage, http.StatusText(outage), nil
	}
	token, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	if !ok || token == "" || strings.Contains(token, "/") {
		// Not in the spec: any other path is unknown (spec, URL: the
		// token is the last path segment of https://nosnch.in/<token>).
		return http.StatusNotFound, "Not Found", nil
	}
	if r.Method != http.MethodGet {
		// spec, Methods and parameters: "GET with query parameters is what
		// the official client sends"; "POST with a body: not documented
		// in any source read. Do not rely on it." The fake refuses other
		// methods (HEAD included), so a client relying on them fails its
		// tests.
		return http.StatusMethodNotAllowed, "Method Not Allowed", http.Header{"Allow": {"GET"}}
	}
	sn := s.snitches[token]
	if sn == nil || sn.mode == Deleted {
		// spec, Responses: "unknown token | not documented | treat 404 as
		// "snitch not found", do not retry".
		return http.StatusNotFound, "Not Found", nil
	}
	switch sn.mode {
	case RateLimited:
		// Not in the spec ("Rate limits: not documented").
		hdr := http.Header{}
		if ra := s.RetryAfter(); ra != "" {
			hdr.Set("Retry-After", ra)
		}
		return http.StatusTooManyRequests, "Too Many Requests", hdr
	case Failing:
		// spec, Responses: "timeouts, 5xx, network | retry with backoff".
		return http.StatusInternalServerError, "Internal Server Error", nil
	}
	q := r.URL.Query()
	ci := &CheckIn{Token: token, UserAgent: r.UserAgent(), Time: time.Now()}
	if m, has := q["m"]; has && len(m) > 0 {
		// spec, Methods and parameters: "`m` | … "limited to ~250
		// characters" | message shown with the check-in".
		ci.Message = truncateRunes(m[0], MaxMessage)
	}
	if st, has := q["s"]; has && len(st) > 0 {
		v := st[0]
		ci.Status = &v
		// spec, Methods and parameters: "`s` | status: missing, `0` or
		// empty = success; any other value = failure (snitch becomes
		// "errored")".
		ci.Failed = v != "" && v != "0"
	}
	rec.CheckIn = ci
	if ci.Failed {
		sn.state = Errored
	} else {
		sn.state = Healthy
	}
	// spec, Responses: "accepted | 2xx; body text `Got it, thanks!`".
	return AcceptedStatus, Accepted, nil
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
