// Package sentryfake is a fake Sentry check-in endpoint (Relay's
// /api/<project>/cron/<slug>/<key>/) for tests. It answers and stores
// check-ins as written up in the specification "Sentry Crons check-ins over
// HTTP — what a client must know" (/work/shared/spec/sentry-crons.md,
// quoted below as "spec, <section>"), with its sources: [H] the HTTP
// getting-started page, [C] the SDK check-in spec, [E] Relay's endpoint
// monitor.rs, [M] relay-monitors lib.rs.
//
// Relay answers 202 as soon as a check-in is queued; what Sentry does with
// it afterwards (store it, or drop it for a rate limit, an unknown monitor,
// a bad schedule) is recorded in Request.Dropped and in the stored
// check-ins, which a real client cannot see.
//
// Where the specification is silent the fake makes a documented guess:
// 403 with a JSON detail for a wrong key or project, 404 for any other path,
// 405 for other methods, 1 MiB as Relay's max_event_size, a sliding minute
// for the rate limit, and dropping a finish for a check-in already
// finished and any check-in for an unknown monitor without monitor_config.
package sentryfake

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/seed-e9b80cf6/heartbeat/plugins/internal/fakeserver"
)

// Limits from the specification.
const (
	// SlugLength is where Relay cuts monitor slugs (spec, Limits: "monitor
	// slug truncated to 50 characters" [M] SLUG_LENGTH).
	SlugLength = 50
	// EnvironmentLength is the longest environment accepted (spec, Limits:
	// "an environment longer than 64 characters is rejected" [M]).
	EnvironmentLength = 64
	// CheckInsPerMinute is the rate limit per monitor environment (spec,
	// Rate limits: "6 check-ins per minute per monitor environment").
	CheckInsPerMinute = 6
	// MaxBodyBytes stands for Relay's max_event_size (spec, Limits: "value
	// not checked here"; the fake's guess is Relay's default, 1 MiB).
	MaxBodyBytes = 1 << 20
	// DefaultEnvironment is what a check-in without environment is stored
	// under (spec, Methods and parameters: "default production" [H]).
	DefaultEnvironment = "production"
	// NilID is the nil UUID a check-in without check_in_id carries (spec,
	// Methods and parameters: "missing = nil UUID" [E]).
	NilID = "00000000000000000000000000000000"
)

// Status is a check-in's status.
type Status string

// The statuses (spec, Methods and parameters: status).
const (
	InProgress Status = "in_progress"
	OK         Status = "ok"
	Error      Status = "error"
	// Unknown is any other string, and "missed", which only the server
	// computes (spec: "missed is server-computed and turned into unknown;
	// any other string deserializes as unknown" [M]).
	Unknown Status = "unknown"
)

// Schedule is a monitor's schedule (spec, JSON body fields: schedule).
type Schedule struct {
	// Type is "crontab" or "interval".
	Type string
	// Crontab is the value of a crontab schedule.
	Crontab string
	// Value and Unit are an interval schedule's.
	Value uint64
	Unit  string
}

// MonitorConfig is the upsert part of a check-in (spec, JSON body fields:
// monitor_config).
type MonitorConfig struct {
	Schedule      Schedule
	CheckinMargin *uint64
	MaxRuntime    *uint64
	Timezone      string
}

// Monitor is a cron monitor of the project.
type Monitor struct {
	Slug string
	// Config is the latest upserted configuration, nil for a monitor made
	// with AddMonitor and never upserted.
	Config *MonitorConfig
	// Upserts counts check-ins that carried a monitor_config.
	Upserts int
}

// CheckIn is a check-in as Sentry keeps it.
type CheckIn struct {
	// ID is the check_in_id in 32 lower-case hex digits.
	ID          string
	Monitor     string
	Environment string
	// Status is the latest status; Statuses every status it was given.
	Status   Status
	Statuses []Status
	// Duration is the duration (seconds) the finish gave, nil when none.
	Duration *float64
}

// Payload is a check-in as the client sent it, after Relay's parsing.
type Payload struct {
	// CheckInID is the id as sent ("" when absent).
	CheckInID string
	// ID is its 32-hex-digit form, NilID when absent.
	ID          string
	MonitorSlug string
	Status      Status
	// RawStatus is the status string as sent.
	RawStatus     string
	Environment   *string
	Duration      *float64
	MonitorConfig *MonitorConfig
	// JSON tells a JSON body from query parameters.
	JSON bool
}

// Request is one request the fake received, whatever it answered.
type Request struct {
	Method      string
	Path        string
	Query       url.Values
	ContentType string
	Body        []byte
	UserAgent   string
	Header      http.Header
	// Status and Answer are the response's status and body.
	Status int
	Answer string
	// CheckIn is the parsed check-in, nil when the request was refused.
	CheckIn *Payload
	// Dropped says why an accepted (202) check-in was not stored; "" when
	// it was stored or refused.
	Dropped string
}

// Options set up a fake server. The zero value is sentry.io's ingest
// endpoint for project 1 with a random public key, over plain HTTP.
type Options struct {
	// TLS serves HTTPS with a certificate of the fake's own.
	TLS bool
	// Prefix is a path before /api/, for a self-hosted Sentry under a path
	// prefix (the DSN's path before the project id).
	Prefix string
	// ProjectID is the project's id; 0 means 1.
	ProjectID int
	// PublicKey is the DSN's public key; "" means a random one.
	PublicKey string
	// LegacyRelay plays a Relay from before relay-monitors made check_in_id
	// and monitor_slug optional in the JSON body: both are required there
	// (spec, JSON body fields: "the develop spec marks it required, but
	// newer Relay defaults it").
	LegacyRelay bool
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	*fakeserver.HTTP
	fakeserver.Faults
	fakeserver.Log[Request]
	prefix  string
	project string
	key     string
	legacy  bool

	mu       sync.Mutex
	monitors map[string]*Monitor
	checkIns []*CheckIn
	recent   map[string][]time.Time // per monitor and environment, for the rate limit
}

// New starts a fake server and closes it when the test ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := Start(opts)
	tb.Cleanup(s.Close)
	return s
}

// Start starts a fake server; Close stops it.
func Start(opts Options) *Server {
	s := &Server{
		prefix:   "/" + strings.Trim(opts.Prefix, "/"),
		project:  strconv.Itoa(max(opts.ProjectID, 1)),
		key:      opts.PublicKey,
		legacy:   opts.LegacyRelay,
		monitors: map[string]*Monitor{},
		recent:   map[string][]time.Time{},
	}
	if s.prefix == "/" {
		s.prefix = ""
	}
	if s.key == "" {
		s.key = NewPublicKey()
	}
	s.HTTP = fakeserver.Start(s, opts.TLS)
	return s
}

// NewPublicKey returns a random public key in Sentry's form (32 hex digits).
func NewPublicKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// PublicKey is the project's public key.
func (s *Server) PublicKey() string { return s.key }

// ProjectID is the project's id.
func (s *Server) ProjectID() string { return s.project }

// DSN is the project's DSN: http(s)://<key>@127.0.0.1:<port>[<prefix>]/<project>.
func (s *Server) DSN() string {
	u, _ := url.Parse(s.URL())
	u.User = url.User(s.key)
	u.Path = s.prefix + "/" + s.project
	return u.String()
}

// CheckInURL is the check-in endpoint of a monitor (spec, URL forms 1:
// https://<host>/api/<project_id>/cron/<monitor_slug>/<public_key>/).
func (s *Server) CheckInURL(slug string) string {
	return s.URL() + s.prefix + "/api/" + s.project + "/cron/" + url.PathEscape(slug) + "/" + s.key + "/"
}

// AddMonitor creates a monitor without configuration, as made in Sentry's
// UI.
func (s *Server) AddMonitor(slug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.monitors[slug] == nil {
		s.monitors[slug] = &Monitor{Slug: slug}
	}
}

// Monitor returns a monitor, false when it does not exist.
func (s *Server) Monitor(slug string) (Monitor, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.monitors[slug]
	if m == nil {
		return Monitor{}, false
	}
	out := *m
	if m.Config != nil {
		c := *m.Config
		out.Config = &c
	}
	return out, true
}

// CheckIns returns the stored check-ins of a monitor, oldest first.
func (s *Server) CheckIns(slug string) []CheckIn {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckIn
	for _, c := range s.checkIns {
		if c.Monitor == slug {
			cp := *c
			cp.Statuses = append([]Status(nil), c.Statuses...)
			out = append(out, cp)
		}
	}
	return out
}

// ServeHTTP answers as Relay's check-in endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, tooLarge := readBody(r)
	rec := Request{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), ContentType: r.Header.Get("Content-Type"),
		Body: body, UserAgent: r.UserAgent(), Header: r.Header.Clone(),
	}
	outage := s.Outage()
	s.Wait(r.Context())
	status, answer := s.handle(r, &rec, tooLarge, outage)
	rec.Status, rec.Answer = status, answer
	s.Record(rec)
	if answer != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, answer)
}

func readBody(r *http.Request) ([]byte, bool) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if len(body) > MaxBodyBytes {
		return body[:MaxBodyBytes], true
	}
	return body, false
}

func detail(msg string) string {
	b, _ := json.Marshal(map[string]string{"detail": msg})
	return string(b)
}

func (s *Server) handle(r *http.Request, rec *Request, tooLarge bool, outage int) (int, string) {
	if outage != 0 {
		return outage, ""
	}
	// spec, URL forms 1: /api/<project_id>/cron/<monitor_slug>/<public_key>/
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), s.prefix+"/api/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 5 || parts[1] != "cron" || parts[4] != "" {
		return http.StatusNotFound, detail("not found")
	}
	// spec, Methods and parameters: "GET or POST only" [E].
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, ""
	}
	slug, err := url.PathUnescape(parts[2])
	if err != nil {
		return http.StatusBadRequest, detail("invalid path")
	}
	// spec, Responses: "wrong public key / project: error from Relay's auth
	// layer; exact code not read (public client code expects 401/403)".
	if parts[0] != s.project || parts[3] != s.key {
		return http.StatusForbidden, detail("event submission rejected with_reason: ProjectId")
	}
	if tooLarge {
		// spec, Limits: body limit is Relay's max_event_size [E].
		return http.StatusRequestEntityTooLarge, detail("request too large")
	}
	var p *Payload
	// spec, Methods and parameters: "If Content-Type starts with
	// application/json the body is parsed as a check-in object; otherwise
	// only the query string is read" [E].
	if strings.HasPrefix(rec.ContentType, "application/json") {
		p, err = s.parseJSON(rec.Body)
	} else {
		p, err = parseQuery(rec.Query)
	}
	if err != nil {
		// spec, Responses: "missing status, bad check_in_id, unparsable
		// JSON: rejected ... presumably 400".
		return http.StatusBadRequest, detail(err.Error())
	}
	// spec, Methods and parameters: "The slug in the path replaces any
	// monitor_slug in the body" [E].
	p.MonitorSlug = slug
	rec.CheckIn = p
	s.mu.Lock()
	rec.Dropped = s.process(p, time.Now())
	s.mu.Unlock()
	// spec, Responses: "accepted | 202, empty body" [L][E].
	return http.StatusAccepted, ""
}

// process does what Sentry does after the 202; it returns why the
// check-in was dropped, "" when stored. s.mu is held.
func (s *Server) process(p *Payload, now time.Time) string {
	// spec, Limits: slug cut to 50 characters, empty rejected [M].
	slug := truncateRunes(p.MonitorSlug, SlugLength)
	if slug == "" {
		return "empty monitor slug"
	}
	env := DefaultEnvironment
	if p.Environment != nil && *p.Environment != "" {
		env = *p.Environment
	}
	// spec, Limits: an environment over 64 characters is rejected [M].
	if utf8.RuneCountInString(env) > EnvironmentLength {
		return "environment longer than 64 characters"
	}
	// spec, Rate limits: 6 check-ins per minute per monitor environment;
	// Relay still answers 202 (spec, Responses: rate limited).
	key := slug + "\x00" + env
	var keep []time.Time
	for _, t := range s.recent[key] {
		if now.Sub(t) < time.Minute {
			keep = append(keep, t)
		}
	}
	if len(keep) >= CheckInsPerMinute {
		s.recent[key] = keep
		return "rate limited"
	}
	s.recent[key] = append(keep, now)
	// spec, Methods and parameters: missed and other strings are unknown.
	if p.Status == Unknown {
		return "unknown status " + strconv.Quote(p.RawStatus)
	}
	m := s.monitors[slug]
	if p.MonitorConfig != nil {
		// spec, Responses: "an invalid schedule in an upsert ... fail[s]
		// silently after the 202".
		if why := validSchedule(p.MonitorConfig.Schedule); why != "" {
			return "invalid schedule: " + why
		}
		if m == nil {
			m = &Monitor{Slug: slug}
			s.monitors[slug] = m
		}
		c := *p.MonitorConfig
		m.Config = &c
		m.Upserts++
	}
	if m == nil {
		return "unknown monitor"
	}
	var duration *float64
	// spec, Methods and parameters: duration "only used with ok/error" [C].
	if p.Status == OK || p.Status == Error {
		duration = p.Duration
	}
	var target *CheckIn
	if p.ID == NilID {
		// spec, Methods and parameters: the nil UUID "updates the most
		// recent in_progress check-in, or creates a new one if none" [C].
		for i := len(s.checkIns) - 1; i >= 0; i-- {
			c := s.checkIns[i]
			if c.Monitor == slug && c.Environment == env && c.Status == InProgress {
				target = c
				break
			}
		}
	} else {
		for _, c := range s.checkIns {
			if c.ID == p.ID && c.Monitor == slug && c.Environment == env {
				target = c
				break
			}
		}
	}
	if target == nil {
		id := p.ID
		if id == NilID {
			id = NewPublicKey() // a fresh id, as Sentry gives one
		}
		s.checkIns = append(s.checkIns, &CheckIn{ID: id, Monitor: slug, Environment: env, Status: p.Status, Statuses: []Status{p.Status}, Duration: duration})
		return ""
	}
	if target.Status != InProgress {
		return "check-in already finished"
	}
	target.Status = p.Status
	target.Statuses = append(target.Statuses, p.Status)
	if duration != nil {
		target.Duration = duration
	}
	return ""
}

// parseStatus follows relay-monitors CheckInStatus.
func parseStatus(raw string) Status {
	switch Status(raw) {
	case InProgress, OK, Error:
		return Status(raw)
	}
	return Unknown
}

// parseUUID accepts what Rust's uuid crate parses: hyphenated, simple,
// braced and urn forms, any case. It returns 32 lower-case hex digits.
func parseUUID(s string) (string, bool) {
	s = strings.ToLower(s)
	s = strings.TrimPrefix(s, "urn:uuid:")
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		s = s[1 : len(s)-1]
	}
	if len(s) == 36 {
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return "", false
		}
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	}
	if len(s) != 32 {
		return "", false
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", false
	}
	return s, true
}

// parseQuery reads the query form: status, check_in_id, environment and
// duration only (spec, Methods and parameters, the query table [E]).
func parseQuery(q url.Values) (*Payload, error) {
	if !q.Has("status") {
		return nil, fmt.Errorf("missing field `status`")
	}
	p := &Payload{RawStatus: q.Get("status"), Status: parseStatus(q.Get("status")), ID: NilID}
	if q.Has("check_in_id") {
		p.CheckInID = q.Get("check_in_id")
		id, ok := parseUUID(p.CheckInID)
		if !ok {
			return nil, fmt.Errorf("invalid check_in_id")
		}
		p.ID = id
	}
	if q.Has("environment") {
		env := q.Get("environment")
		p.Environment = &env
	}
	if q.Has("duration") {
		d, err := strconv.ParseFloat(q.Get("duration"), 64)
		if err != nil {
			return nil, fmt.Errorf("invalid duration")
		}
		p.Duration = &d
	}
	return p, nil
}

// jsonCheckIn mirrors relay-monitors CheckIn (spec, JSON body fields).
type jsonCheckIn struct {
	CheckInID     *string          `json:"check_in_id"`
	MonitorSlug   *string          `json:"monitor_slug"`
	Status        *string          `json:"status"`
	Environment   *string          `json:"environment"`
	Duration      *float64         `json:"duration"`
	MonitorConfig *json.RawMessage `json:"monitor_config"`
}

func (s *Server) parseJSON(body []byte) (*Payload, error) {
	var j jsonCheckIn
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing characters after the JSON object")
	}
	if j.Status == nil {
		return nil, fmt.Errorf("missing field `status`")
	}
	if s.legacy && j.CheckInID == nil {
		return nil, fmt.Errorf("missing field `check_in_id`")
	}
	if s.legacy && j.MonitorSlug == nil {
		return nil, fmt.Errorf("missing field `monitor_slug`")
	}
	p := &Payload{JSON: true, RawStatus: *j.Status, Status: parseStatus(*j.Status), ID: NilID, Environment: j.Environment, Duration: j.Duration}
	if j.MonitorSlug != nil {
		p.MonitorSlug = *j.MonitorSlug
	}
	if j.CheckInID != nil {
		p.CheckInID = *j.CheckInID
		id, ok := parseUUID(p.CheckInID)
		if !ok {
			return nil, fmt.Errorf("invalid check_in_id")
		}
		p.ID = id
	}
	if j.MonitorConfig != nil && string(*j.MonitorConfig) != "null" {
		mc, err := parseMonitorConfig(*j.MonitorConfig)
		if err != nil {
			return nil, err
		}
		p.MonitorConfig = mc
	}
	return p, nil
}

// parseMonitorConfig follows relay-monitors MonitorConfig: the schedule is
// required and tagged by type; the rest optional (spec, JSON body fields).
func parseMonitorConfig(raw json.RawMessage) (*MonitorConfig, error) {
	var j struct {
		Schedule *struct {
			Type  string          `json:"type"`
			Value json.RawMessage `json:"value"`
			Unit  string          `json:"unit"`
		} `json:"schedule"`
		CheckinMargin *uint64 `json:"checkin_margin"`
		MaxRuntime    *uint64 `json:"max_runtime"`
		Timezone      *string `json:"timezone"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("invalid monitor_config: %v", err)
	}
	if j.Schedule == nil {
		return nil, fmt.Errorf("monitor_config: missing field `schedule`")
	}
	mc := &MonitorConfig{CheckinMargin: j.CheckinMargin, MaxRuntime: j.MaxRuntime}
	if j.Timezone != nil {
		mc.Timezone = *j.Timezone
	}
	switch j.Schedule.Type {
	case "crontab":
		var v string
		if err := json.Unmarshal(j.Schedule.Value, &v); err != nil {
			return nil, fmt.Errorf("monitor_config: a crontab schedule's value must be a string")
		}
		mc.Schedule = Schedule{Type: "crontab", Crontab: v}
	case "interval":
		var v uint64
		if err := json.Unmarshal(j.Schedule.Value, &v); err != nil {
			return nil, fmt.Errorf("monitor_config: an interval schedule's value must be a whole number")
		}
		switch j.Schedule.Unit {
		case "year", "month", "week", "day", "hour", "minute":
		default:
			return nil, fmt.Errorf("monitor_config: unknown interval unit %q", j.Schedule.Unit)
		}
		mc.Schedule = Schedule{Type: "interval", Value: v, Unit: j.Schedule.Unit}
	default:
		return nil, fmt.Errorf("monitor_config: unknown schedule type %q", j.Schedule.Type)
	}
	return mc, nil
}

// validSchedule is the fake's stand-in for Sentry's schedule validation,
// which runs after the 202: a crontab of 5 fields, an interval of at least
// 1. It returns "" for a valid schedule.
func validSchedule(sch Schedule) string {
	switch {
	case sch.Type == "crontab" && len(strings.Fields(sch.Crontab)) != 5:
		return "a crontab has 5 fields"
	case sch.Type == "interval" && sch.Value < 1:
		return "an interval is at least 1"
	}
	return ""
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
