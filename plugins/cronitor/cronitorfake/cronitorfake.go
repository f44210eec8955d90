// Package cronitorfake is a fake Cronitor telemetry endpoint for tests.
//
// It answers as the project's Cronitor spec says the hosted service does
// (spec/cronitor.md, "Cronitor telemetry API — what a client must know";
// cited below as "spec:<line>" with the section, e.g. "spec:68
// Responses"), records every request, and stores the events a real
// account would. Behaviours the spec does not record are marked "not in
// the spec", with the guess the fake makes.
//
// The account has API keys (with or without the monitor:telemetry scope)
// and monitors; a ping with an unknown monitor key creates the monitor, as
// Cronitor does.
package cronitorfake

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seed-e9b80cf6/heartbeat/plugins/internal/fakeserver"
)

// Limits and names from the spec.
const (
	// MaxMessageChars is the message length the CLI's help text and the
	// third-party OpenAPI document (spec:40 Parameters). What the service
	// does with a longer one is not in the spec: the fake keeps the first
	// MaxMessageChars characters.
	MaxMessageChars = 2000
	// CLIMessageBytes is what Cronitor's own CLI cuts a message to before
	// sending it (spec:40 Parameters).
	CLIMessageBytes = 1000
	// MaxHostChars and MaxEnvChars are where the CLI cuts host and env
	// (spec:42-43 Parameters).
	MaxHostChars = 50
	MaxEnvChars  = 50
	// MaxMetricName is the longest custom metric name (spec:45 Parameters).
	MaxMetricName = 63
)

// States a ping may carry (spec:39 Parameters); "" is a plain heartbeat
// event.
const (
	StateRun      = "run"
	StateComplete = "complete"
	StateFail     = "fail"
	StateOK       = "ok"
	StateTick     = "tick"
)

// builtinMetrics are the metric names Cronitor defines (spec:45 Parameters).
var builtinMetrics = map[string]bool{"count": true, "error_count": true, "duration": true, "length": true, "latency": true}

// customMetric is what a custom metric name may be (spec:45 Parameters).
var customMetric = regexp.MustCompile(`^[a-z0-9_-]{1,63}$`)

// Config sets up a fake. The zero value serves plain HTTP at the root, as
// cronitor.link does.
type Config struct {
	// PathPrefix puts the endpoint below a path, as a reverse proxy would
	// (not in the spec: cronitor.link serves at the root).
	PathPrefix string
	// TLS serves HTTPS with a certificate of the fake's own CA.
	TLS bool
}

// Event is one telemetry event the account stored.
type Event struct {
	// Key is the API key the ping carried; Legacy is true for the
	// /ping/<key>/<monitor> form (spec:17 URL forms).
	Key    string
	Legacy bool
	// Monitor is the monitor key from the path.
	Monitor string
	// Created is set on the event that created its monitor (spec:24).
	Created bool
	// State is the state parameter, "" when absent (a plain heartbeat
	// event, spec:39 Parameters).
	State string
	// Message is the message parameter, cut to MaxMessageChars.
	Message string
	// MessageChars is the length of the message as sent, in characters.
	MessageChars int
	Series       string
	Host, Env    string
	// StatusCode is status_code, nil when absent or not an integer.
	StatusCode *int
	// Metrics are the metric parameters Cronitor keeps: name:value or
	// name=value, NaN and Inf dropped, custom names [a-z0-9_-]{1,63}
	// (spec:45 Parameters).
	Metrics map[string]float64
	// Stamp is the stamp parameter, nil when absent (spec:46 Parameters).
	Stamp *float64
	// At is when the fake stored the event.
	At time.Time
}

// Duration returns the duration metric in seconds; ok is false without one.
func (e Event) Duration() (float64, bool) {
	d, ok := e.Metrics["duration"]
	return d, ok
}

// Request is one request the fake received, whatever it answered.
type Request struct {
	Method string
	// Path is the escaped request path, prefix included.
	Path     string
	RawQuery string
	Query    url.Values
	Body     []byte
	// ContentLength is the request's Content-Length, -1 when unknown.
	ContentLength int64
	UserAgent     string
	Header        http.Header
	// Status and Answer are what the fake answered.
	Status int
	Answer string
	// Event is what the account stored, nil when nothing was: an unknown
	// key, a key without the telemetry scope, an outage, a wrong path.
	Event *Event
}

// Run is a run event paired with the complete or fail of the same series
// (spec:41 Parameters, spec:60 Signal mapping).
type Run struct {
	Series string
	Start  *Event
	End    *Event
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	*fakeserver.HTTP
	fakeserver.Faults
	fakeserver.RetryAfterHeader
	fakeserver.Log[Request]
	prefix string

	mu       sync.Mutex
	keys     map[string]bool // key -> has the monitor:telemetry scope
	monitors map[string]bool
}

// New starts a fake and closes it when the test ends.
func New(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s := Start(cfg)
	tb.Cleanup(s.Close)
	return s
}

// Start starts a fake; Close stops it.
func Start(cfg Config) *Server {
	s := &Server{keys: map[string]bool{}, monitors: map[string]bool{}}
	if p := strings.Trim(cfg.PathPrefix, "/"); p != "" {
		s.prefix = "/" + p
	}
	s.HTTP = fakeserver.Start(s, cfg.TLS)
	return s
}

// BaseURL is what base_url is set to: the server's root, prefix included,
// without a trailing slash (https://cronitor.link for the real service).
func (s *Server) BaseURL() string { return s.URL() + s.prefix }

// PingURL is a monitor's telemetry URL as Cronitor documents it
// (spec:16 URL forms).
func (s *Server) PingURL(key, monitor string) string {
	return s.BaseURL() + "/p/" + key + "/" + url.PathEscape(monitor)
}

// NewKey returns a random API key in Cronitor's form (32 hexadecimal
// characters; the exact alphabet is not in the spec).
func NewKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// AddKey registers an API key of the account. telemetry says whether it
// has the monitor:telemetry scope that pings need (spec:20-21).
func (s *Server) AddKey(key string, telemetry bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = telemetry
	return key
}

// AddMonitor registers a monitor key, so its first ping does not create
// it.
func (s *Server) AddMonitor(monitor string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.monitors[monitor] = true
}

// Monitors returns the monitor keys of the account, created ones included.
func (s *Server) Monitors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.monitors))
	for m := range s.monitors {
		out = append(out, m)
	}
	return out
}

// SetOutage makes every request get status with its status text, as a
// proxy or load balancer in front of a failing service answers; 0 ends it.
// Requests are still recorded.
func (s *Server) SetOutage(status int) {
	s.SetRetryAfter("")
	s.Faults.SetOutage(status)
}

// SetRateLimited makes every request get 429 with this Retry-After ("" for
// none), as a third-party summary says Cronitor does (spec:80-84 Rate
// limits: unverified); SetOutage(0) ends it.
func (s *Server) SetRateLimited(retryAfter string) {
	s.SetRetryAfter(retryAfter)
	s.Faults.SetOutage(http.StatusTooManyRequests)
}

// Events returns the events stored for monitor, oldest first; every
// stored event when monitor is "".
func (s *Server) Events(monitor string) []Event {
	var out []Event
	for _, r := range s.Requests() {
		if r.Event != nil && (monitor == "" || r.Event.Monitor == monitor) {
			out = append(out, *r.Event)
		}
	}
	return out
}

// Runs pairs the monitor's run events with the complete or fail of the
// same series, as Cronitor does to compute a run's duration (spec:41,
// spec:60). A run without its end has End nil; events without a series
// are not runs.
func (s *Server) Runs(monitor string) []Run {
	var runs []Run
	open := map[string]int{}
	for _, e := range s.Events(monitor) {
		if e.Series == "" {
			continue
		}
		switch e.State {
		case StateRun:
			open[e.Series] = len(runs)
			runs = append(runs, Run{Series: e.Series, Start: &e})
		case StateComplete, StateFail:
			if i, ok := open[e.Series]; ok {
				runs[i].End = &e
				delete(open, e.Series)
			}
		}
	}
	return runs
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.Wait(r.Context()) {
		return
	}
	// No body is documented (spec:33 Methods): read a little, to record it.
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return
	}
	rec := Request{
		Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery, Query: r.URL.Query(),
		Body: body, ContentLength: r.ContentLength, UserAgent: r.UserAgent(), Header: r.Header.Clone(),
	}
	s.mu.Lock()
	status, header := s.route(r, &rec)
	answer := ""
	if status != http.StatusOK {
		answer = http.StatusText(status)
	}
	rec.Status, rec.Answer = status, answer
	s.Record(rec)
	s.mu.Unlock()

	for k, v := range header {
		w.Header()[k] = v
	}
	// The body of a 200 is not documented; third-party examples show an
	// empty one (spec:71 Responses).
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, answer)
	}
}

// route answers a request; it runs with s.mu held.
func (s *Server) route(r *http.Request, rec *Request) (int, http.Header) {
	if outage := s.Outage(); outage != 0 {
		h := http.Header{}
		if ra := s.RetryAfter(); ra != "" {
			h.Set("Retry-After", ra)
		}
		return outage, h
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
		// GET is documented; POST and HEAD only by a third party
		// (spec:30-33 Methods).
	default:
		// Not in the spec: the fake refuses other methods.
		return http.StatusMethodNotAllowed, nil
	}
	rest, ok := strings.CutPrefix(r.URL.Path, s.prefix+"/")
	if !ok {
		return http.StatusNotFound, nil
	}
	segs := strings.Split(rest, "/")
	if len(segs) != 3 || (segs[0] != "p" && segs[0] != "ping") || segs[1] == "" || segs[2] == "" {
		// Not in the spec: what cronitor.link answers on other paths.
		// The fake answers 404; the legacy unauthenticated /<code>/<state>
		// form (spec:18) is not served.
		return http.StatusNotFound, nil
	}
	key, monitor := segs[1], segs[2]
	// Every telemetry request gets 200, invalid credentials included:
	// authentication happens after ingestion (spec:68-70 Responses). A
	// wrong key, or one without the monitor:telemetry scope (spec:20-21),
	// stores nothing.
	if telemetry, known := s.keys[key]; !known || !telemetry {
		return http.StatusOK, nil
	}
	created := false
	if !s.monitors[monitor] {
		// An unknown monitor key creates a monitor (spec:24-26).
		s.monitors[monitor] = true
		created = true
	}
	q := r.URL.Query()
	msg := q.Get("message")
	ev := &Event{
		Key: key, Legacy: segs[0] == "ping", Monitor: monitor, Created: created,
		State: q.Get("state"), Series: q.Get("series"), Host: q.Get("host"), Env: q.Get("env"),
		Message: truncateRunes(msg, MaxMessageChars), MessageChars: utf8.RuneCountInString(msg),
		Metrics: parseMetrics(q["metric"]), At: time.Now(),
	}
	if v, err := strconv.Atoi(q.Get("status_code")); err == nil {
		ev.StatusCode = &v
	}
	if v, err := strconv.ParseFloat(q.Get("stamp"), 64); err == nil {
		ev.Stamp = &v
	}
	rec.Event = ev
	return http.StatusOK, nil
}

// parseMetrics reads metric parameters: name:value, or name=value
// (spec:45 Parameters). NaN and Inf are dropped, as are names that are
// neither built in nor valid custom names.
func parseMetrics(values []string) map[string]float64 {
	out := map[string]float64{}
	for _, v := range values {
		name, num, ok := strings.Cut(v, ":")
		if !ok {
			name, num, ok = strings.Cut(v, "=")
		}
		if !ok || !(builtinMetrics[name] || customMetric.MatchString(name)) {
			continue
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		out[name] = f
	}
	return out
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
