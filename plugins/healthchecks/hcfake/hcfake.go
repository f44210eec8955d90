// Package hcfake is a fake Healthchecks ping server for tests. It answers as
// real servers were measured to answer, as written up in the specification
// "Healthchecks ping API — what a client must know" (quoted below as "spec,
// <table>: <row>"), and records every request and every ping it stores.
//
// Where the specification is silent the fake makes a documented guess: the
// body of hc-ping.com's 429 ("rate limited"), 500 answers (Django's error
// page), and Ping-Body-Limit only on answers to stored pings.
//
// Three flavours exist: a self-hosted v2.10 server, hc-ping.com, and a
// self-hosted v1.24.1 server (older installs).
package hcfake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/seed-e9b80cf6/heartbeat/plugins/internal/fakeserver"
)

// Flavor is the kind of server the fake plays.
type Flavor int

const (
	// SelfHosted is an unmodified self-hosted Healthchecks v2.10.
	SelfHosted Flavor = iota
	// Hosted is hc-ping.com.
	Hosted
	// Legacy is a self-hosted Healthchecks v1.24.1.
	Legacy
)

func (f Flavor) String() string {
	switch f {
	case Hosted:
		return "hosted"
	case Legacy:
		return "legacy"
	}
	return "self-hosted"
}

// Limits measured on real servers.
const (
	// SelfHostedBodyLimit is PING_BODY_LIMIT's default (spec, URLs: "10,000
	// bytes by default self-hosted").
	SelfHostedBodyLimit = 10_000
	// HostedBodyLimit is hc-ping.com's limit (spec, URLs: "100 kB on
	// hc-ping.com").
	HostedBodyLimit = 100_000
	// MaxUploadBytes is the largest body the server reads (spec, observed:
	// "body over 2,621,440 bytes | 400").
	MaxUploadBytes = 2_621_440
	// MaxUserAgent is how much of the User-Agent is stored (spec, observed:
	// "User-Agent of 300 characters | ... | its first 200 characters").
	MaxUserAgent = 200
)

// Config sets up a fake server. The zero value is a self-hosted v2.10
// server over plain HTTP with its ping endpoint at /ping/.
type Config struct {
	Flavor Flavor
	// PathPrefix is the ping endpoint's path: "/ping/" self-hosted (spec,
	// URLs: "self-hosted default <SITE_ROOT>/ping/"), "/" on hc-ping.com.
	// Set e.g. "/hc/ping/" for a server under a path prefix.
	PathPrefix string
	// BodyLimit is PING_BODY_LIMIT; 0 is the flavour's default.
	BodyLimit int
	// TLS serves HTTPS with a certificate of the fake's own CA.
	TLS bool
}

// State switches a check into a state that produces one of the spec's
// response rows.
type State int

const (
	// Up records pings: 200 "OK" (spec, Responses: "recorded").
	Up State = iota
	// Deleted makes the check unknown: 404 "not found" self-hosted, 200
	// "OK (not found)" on hc-ping.com (spec, Responses: "unknown UUID").
	Deleted
	// RateLimited answers as hc-ping.com does to a check pinged too often:
	// 200 "OK (rate limited)" for UUID URLs, 429 for slug URLs (spec,
	// Responses: "rate limited"). Self-hosted servers never rate limit
	// (spec, observed: "no rate limit when self-hosted"); the state plays
	// hc-ping.com's answer whatever the flavour.
	RateLimited
	// Failing answers 500 with Django's error page, as a server whose
	// database is down does.
	Failing
)

// Kind is what a stored ping does to its check.
type Kind string

// Ping kinds (spec, URLs: the signal table).
const (
	KindSuccess Kind = "success"
	KindStart   Kind = "start"
	KindFail    Kind = "fail"
	KindLog     Kind = "log"
)

// Ping is a ping the server stored.
type Ping struct {
	// Check is the check's UUID.
	Check string
	Kind  Kind
	// ExitStatus is set for /<code> pings.
	ExitStatus *int
	Method     string
	// Body is what the server keeps: the first BodyLimit bytes, empty for a
	// chunked body.
	Body []byte
	// RID is the rid parameter, "" when none (or ignored, on Legacy).
	RID string
	// UserAgent is its first MaxUserAgent characters.
	UserAgent string
	// Created is set on the ping that created its check (create=1).
	Created bool
}

// Request is one request the server received, whatever it answered.
type Request struct {
	Method string
	// Path is the URL path, prefix included.
	Path  string
	Query url.Values
	// Body is the body as received, before any truncation.
	Body []byte
	// ContentLength is the request's Content-Length, -1 when unknown
	// (chunked).
	ContentLength int64
	UserAgent     string
	Header        http.Header
	// Status and Answer are the response's status code and body.
	Status int
	Answer string
	// Ping is what was stored, nil when nothing was.
	Ping *Ping
}

type check struct {
	uuid, pingKey, slug string
	state               State
}

// Server is a running fake. Its methods are safe for concurrent use.
// During an outage (SetOutage) every request gets the status with its
// status text as body, and is still recorded.
type Server struct {
	*fakeserver.HTTP
	fakeserver.Faults
	fakeserver.Log[Request]
	prefix string
	limit  int
	flavor Flavor

	mu       sync.Mutex
	checks   []*check
	projects map[string]bool
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
	s := &Server{flavor: cfg.Flavor, prefix: cfg.PathPrefix, limit: cfg.BodyLimit, projects: map[string]bool{}}
	if s.prefix == "" {
		s.prefix = "/ping/"
		if cfg.Flavor == Hosted {
			s.prefix = "/"
		}
	}
	s.prefix = "/" + strings.Trim(s.prefix, "/") + "/"
	s.prefix = strings.ReplaceAll(s.prefix, "//", "/")
	if s.limit == 0 {
		s.limit = SelfHostedBodyLimit
		if cfg.Flavor == Hosted {
			s.limit = HostedBodyLimit
		}
	}
	s.HTTP = fakeserver.Start(s, cfg.TLS)
	return s
}

// BaseURL is the ping endpoint (base_url), ending with a slash.
func (s *Server) BaseURL() string { return s.URL() + s.prefix }

// PingURL is the UUID ping URL of a check, as Healthchecks' UI shows it.
func (s *Server) PingURL(uuid string) string { return s.BaseURL() + uuid }

// NewUUID returns a random check UUID in Healthchecks' form.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// NewPingKey returns a random ping key in Healthchecks' form (22 URL-safe
// characters).
func NewPingKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// AddCheck registers a check by UUID and returns the UUID.
func (s *Server) AddCheck(uuid string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks = append(s.checks, &check{uuid: uuid})
	return uuid
}

// AddProject registers a project's ping key, so create=1 can add checks to
// it.
func (s *Server) AddProject(pingKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projects[pingKey] = true
}

// AddSlugCheck registers a check with a slug in the project of pingKey
// (registering the project) and returns its UUID. Adding the same slug twice
// makes it ambiguous (409).
func (s *Server) AddSlugCheck(pingKey, slug string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projects[pingKey] = true
	c := &check{uuid: NewUUID(), pingKey: pingKey, slug: slug}
	s.checks = append(s.checks, c)
	return c.uuid
}

// SetState switches the check with this UUID into st.
func (s *Server) SetState(uuid string, st State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.checks {
		if c.uuid == uuid {
			c.state = st
		}
	}
}

// Pings returns the pings stored for the check with this UUID, oldest
// first; every stored ping when uuid is "".
func (s *Server) Pings(uuid string) []Ping {
	var out []Ping
	for _, r := range s.Requests() {
		if r.Ping != nil && (uuid == "" || r.Ping.Check == uuid) {
			out = append(out, *r.Ping)
		}
	}
	return out
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.Wait(r.Context())
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxUploadBytes+1))
	if err != nil {
		// The client hung up mid-body.
		return
	}
	rec := Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body,
		ContentLength: r.ContentLength, UserAgent: r.UserAgent(), Header: r.Header.Clone(),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	status, answer, header := s.route(r, body, &rec)
	rec.Status, rec.Answer = status, answer
	s.Record(rec)

	h := w.Header()
	// Django's default content type (spec, observed: "Content-Type:
	// text/html; charset=utf-8").
	h.Set("Content-Type", "text/html; charset=utf-8")
	for k, v := range header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

// Django's pages for errors raised outside the ping views.
const (
	djangoNotFound   = "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n"
	djangoBadRequest = "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Bad Request (400)</title>\n</head>\n<body>\n  <h1>Bad Request (400)</h1><p></p>\n</body>\n</html>\n"
	djangoError      = "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error (500)</title>\n</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n"
)

// target is what a ping URL names.
type target struct {
	uuid          string // UUID form
	pingKey, slug string // slug form
	kind          Kind
	exit          *int
}

// route answers a request; it runs with s.mu held.
func (s *Server) route(r *http.Request, body []byte, rec *Request) (int, string, http.Header) {
	if outage := s.Outage(); outage != 0 {
		return outage, http.StatusText(outage), nil
	}
	if len(body) > MaxUploadBytes {
		// spec, observed: "body over 2,621,440 bytes | 400, Django's HTML
		// "Bad Request (400)" page".
		return http.StatusBadRequest, djangoBadRequest, nil
	}
	rest, ok := strings.CutPrefix(r.URL.Path, s.prefix)
	if !ok {
		return http.StatusNotFound, djangoNotFound, nil
	}
	t, status, answer := s.parsePath(rest)
	if status != 0 {
		return status, answer, nil
	}
	var c *check
	created := false
	if t.uuid != "" {
		c = s.byUUID(t.uuid)
		if c == nil {
			if s.flavor == Hosted {
				// spec, Responses: "unknown UUID | ... | 200 `OK (not
				// found)`".
				return http.StatusOK, "OK (not found)", nil
			}
			// spec, observed: "unknown UUID | 404 `not found` (9 bytes)".
			return http.StatusNotFound, "not found", nil
		}
		if c.state == RateLimited {
			// spec, Responses: "rate limited | 200 `OK (rate limited)` for
			// UUID URLs".
			return http.StatusOK, "OK (rate limited)", nil
		}
	} else {
		matches := s.bySlug(t.pingKey, t.slug)
		switch {
		case len(matches) > 1:
			// spec, Responses: "slug not unique in the project | 409
			// `ambiguous slug`".
			return http.StatusConflict, "ambiguous slug", nil
		case len(matches) == 1:
			c = matches[0]
		case r.URL.Query().Get("create") == "1" && s.flavor != Legacy && s.projects[t.pingKey]:
			// spec, observed: "unknown slug with `?create=1` | 201 `Created`
			// (7 bytes); the next one 200 `OK`". Only exactly "1": "?create=
			// true | not a create: 404".
			c = &check{uuid: NewUUID(), pingKey: t.pingKey, slug: t.slug}
			s.checks = append(s.checks, c)
			created = true
		default:
			// spec, observed: "unknown slug | 404 `not found`"; "wrong ping
			// key, with or without `create=1` | 404 `not found`"; v1.24.1:
			// "`?create=1` is 404".
			return http.StatusNotFound, "not found", nil
		}
		if c.state == RateLimited {
			// spec, Responses: "rate limited | ... 429 for slug URLs".
			return http.StatusTooManyRequests, "rate limited", nil
		}
	}
	if c.state == Failing {
		return http.StatusInternalServerError, djangoError, nil
	}
	if t.exit != nil && *t.exit > 255 {
		// spec, observed: "`/256` | 400 `invalid url format` (no
		// Ping-Body-Limit header)".
		return http.StatusBadRequest, "invalid url format", nil
	}
	rid := ""
	if s.flavor != Legacy {
		q := r.URL.Query()
		if _, has := q["rid"]; has {
			rid = q.Get("rid")
			if !isCanonicalUUID(rid) {
				// spec, observed: "`?rid=` upper case, without dashes,
				// empty, or not a UUID | 400 `invalid uuid format`".
				return http.StatusBadRequest, "invalid uuid format", nil
			}
		}
		// On Legacy, spec: "v1.24.1 ... `rid` is ignored".
	}
	stored := body
	if r.ContentLength < 0 {
		// spec, observed: "body sent chunked (no Content-Length) | 200 `OK`
		// | an empty body".
		stored = nil
	}
	if len(stored) > s.limit {
		// spec, observed: "POST body of 20,000 bytes | 200 `OK` | the first
		// 10,000 bytes".
		stored = stored[:s.limit]
	}
	rec.Ping = &Ping{
		Check: c.uuid, Kind: t.kind, ExitStatus: t.exit, Method: r.Method,
		Body: append([]byte(nil), stored...), RID: rid,
		UserAgent: truncateRunes(r.UserAgent(), MaxUserAgent), Created: created,
	}
	h := http.Header{}
	// Healthchecks' ping views allow any origin.
	h.Set("Access-Control-Allow-Origin", "*")
	if s.flavor != Legacy {
		// spec, observed: "200 `OK` (... `Ping-Body-Limit: 10000` ...)";
		// v1.24.1: "no `Ping-Body-Limit` header".
		h.Set("Ping-Body-Limit", strconv.Itoa(s.limit))
	}
	if created {
		return http.StatusCreated, "Created", h
	}
	// spec, observed: "GET, POST, HEAD, PUT, PATCH, DELETE, OPTIONS
	// `/ping/<uuid>` | 200 `OK`".
	return http.StatusOK, "OK", h
}

// parsePath matches the path after the prefix against Healthchecks' routes,
// in their order: UUID routes (lower-case UUIDs only), then slug routes. A
// non-zero status is the answer for a path no route takes.
func (s *Server) parsePath(rest string) (target, int, string) {
	segs := strings.Split(rest, "/")
	// spec, observed: "`/ping/<uuid>/` (trailing slash) | 200 `OK`"; the
	// slug routes take a trailing slash too.
	if n := len(segs); (n == 2 || n == 3) && segs[n-1] == "" {
		segs = segs[:n-1]
	}
	if isCanonicalUUID(segs[0]) {
		switch {
		case len(segs) == 1:
			// spec, URLs: "success | `<base><uuid>`".
			return target{uuid: segs[0], kind: KindSuccess}, 0, ""
		case len(segs) == 2:
			if t, ok := s.action(segs[1]); ok {
				t.uuid = segs[0]
				return t, 0, ""
			}
		}
	}
	if len(segs) == 2 || len(segs) == 3 {
		if !isSlug(segs[0]) || !isSlug(segs[1]) {
			// spec, Responses: "bad URL (... bad slug chars) | 400 `invalid
			// url format`".
			return target{}, http.StatusBadRequest, "invalid url format"
		}
		t := target{pingKey: segs[0], slug: segs[1], kind: KindSuccess}
		if len(segs) == 2 {
			// spec, observed: "`/ping/<ping_key>/<slug>` | 200 `OK`".
			return t, 0, ""
		}
		if a, ok := s.action(segs[2]); ok {
			a.pingKey, a.slug = t.pingKey, t.slug
			return a, 0, ""
		}
	}
	// spec, observed: "UUID in upper case or without dashes in the path |
	// 404, Django's HTML "Not Found" page".
	return target{}, http.StatusNotFound, djangoNotFound
}

// action matches what follows a check in a ping URL.
func (s *Server) action(seg string) (target, bool) {
	switch seg {
	case "start":
		return target{kind: KindStart}, true
	case "fail":
		return target{kind: KindFail}, true
	case "log":
		// spec: "v1.24.1 ... `/log` is 404".
		return target{kind: KindLog}, s.flavor != Legacy
	}
	if seg == "" || strings.Trim(seg, "0123456789") != "" {
		return target{}, false
	}
	code, err := strconv.Atoi(seg)
	if err != nil {
		code = 1 << 30 // too long for an int: still "invalid url format"
	}
	// spec, observed: "`/0` | 200 `OK` | success, exit status 0"; "`/1` ...
	// `/255` | 200 `OK` | fail with that exit status".
	kind := KindFail
	if code == 0 {
		kind = KindSuccess
	}
	return target{kind: kind, exit: &code}, true
}

func (s *Server) byUUID(uuid string) *check {
	for _, c := range s.checks {
		if c.uuid == uuid && c.state != Deleted {
			return c
		}
	}
	return nil
}

func (s *Server) bySlug(pingKey, slug string) []*check {
	var out []*check
	for _, c := range s.checks {
		if c.pingKey == pingKey && c.slug == slug && c.state != Deleted {
			out = append(out, c)
		}
	}
	return out
}

// isCanonicalUUID matches Django's uuid converter and Healthchecks' rid
// check: lower case, with dashes.
func isCanonicalUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// isSlug matches Django's slug converter, which Healthchecks uses for ping
// keys and slugs (spec, observed: "the server accepts upper case and
// underscores").
func isSlug(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
