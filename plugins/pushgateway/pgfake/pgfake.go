// Package pgfake is a fake Prometheus Pushgateway for tests. It answers
// pushes as Pushgateway v1.11.5 does, as written up in the specification
// "Prometheus Pushgateway — what a client must know"
// (shared/spec/pushgateway.md, quoted below as "spec, <section>: <row>"),
// and records every request and the metric groups it stores.
//
// It parses bodies with the same parser and name rules the Pushgateway
// uses (prometheus/common expfmt, legacy validation), so a body it accepts
// the real one accepts too. Where the specification is silent it follows
// the Pushgateway's source (handler/push.go, storage/diskmetricstore.go of
// v1.11.5): the 401 body, the 405 for other methods on push routes, the
// group created by a failed push. The answers TestAnswers expects are those
// a real Pushgateway v1.11.5 gave to the same requests.
//
// Not reproduced: snappy bodies, the gateway's own metrics on /metrics, and
// persistence; the fake serves pushes only and exposes what it stored
// through Groups, Group and Value.
package pgfake

import (
	"bufio"
	"compress/gzip"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"

	"github.com/seed-e9b80cf6/heartbeat/plugins/internal/fakeserver"
)

// The gateway's own per-group metrics (spec, Metrics the gateway adds per
// group).
const (
	PushTimeMetric        = "push_time_seconds"
	PushFailureTimeMetric = "push_failure_time_seconds"
)

// Config sets up a fake gateway. The zero value is a Pushgateway with
// default flags over plain HTTP.
type Config struct {
	// RoutePrefix is --web.route-prefix, e.g. "/pg" (spec, URL: "A base
	// may carry a path prefix").
	RoutePrefix string
	// Username and Password turn basic auth on, as --web.config.file with
	// basic_auth_users does (spec, Responses: 401).
	Username, Password string
	// Unchecked is --push.disable-consistency-check: pushes are queued and
	// answered 202 (spec, Responses: 202).
	Unchecked bool
	// TLS serves HTTPS with a certificate of httptest's own CA.
	TLS bool
}

// Request is one request the fake received, whatever it answered.
type Request struct {
	Method string
	// Path is the escaped path as sent, route prefix included.
	Path          string
	ContentType   string
	Authorization bool
	UserAgent     string
	Body          []byte
	Status        int
	// Answer is the body the fake answered with.
	Answer string
}

// Sample is one stored sample: its labels (grouping labels included, as
// the gateway adds them) and value.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// Family is one stored metric family of a group.
type Family struct {
	Type    string // "gauge", "counter", "untyped", …
	Help    string
	Samples []Sample
}

// Group is one grouping key's metrics.
type Group struct {
	Labels  map[string]string
	Metrics map[string]Family
}

// Server is a running fake gateway.
type Server struct {
	*fakeserver.HTTP
	fakeserver.Log[Request]
	cfg Config

	mu     sync.Mutex
	groups map[string]*group
	answer *answer
	delay  time.Duration
}

type group struct {
	labels   map[string]string
	families map[string]*dto.MetricFamily
}

type answer struct {
	status int
	body   string
	header http.Header
}

// New starts a fake gateway, closed when the test ends.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	s := Start(cfg)
	t.Cleanup(s.Close)
	return s
}

// Start starts a fake gateway; Close stops it.
func Start(cfg Config) *Server {
	cfg.RoutePrefix = strings.TrimRight(cfg.RoutePrefix, "/")
	s := &Server{cfg: cfg, groups: map[string]*group{}}
	s.HTTP = fakeserver.Start(http.HandlerFunc(s.serve), cfg.TLS)
	return s
}

// URL is the gateway's base URL, route prefix included: what a client's
// url setting holds.
func (s *Server) URL() string { return s.HTTP.URL() + s.cfg.RoutePrefix }

// SetAnswer makes every later request get this answer instead of the
// gateway's, as a proxy in front of it would give; status 0 restores the
// gateway.
func (s *Server) SetAnswer(status int, body string, header http.Header) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		s.answer = nil
		return
	}
	s.answer = &answer{status, body, header}
}

// SetDelay delays every later answer, for timeout tests.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Groups returns every stored group.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Group
	for _, k := range slices.Sorted(maps.Keys(s.groups)) {
		out = append(out, s.groups[k].export())
	}
	return out
}

// Group returns the group with exactly these grouping labels (job
// included).
func (s *Server) Group(labels map[string]string) (Group, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[groupingKey(labels)]
	if !ok {
		return Group{}, false
	}
	return g.export(), true
}

// Value returns the value of the single sample of metric in the group with
// these grouping labels.
func (s *Server) Value(labels map[string]string, metric string) (float64, bool) {
	g, ok := s.Group(labels)
	if !ok {
		return 0, false
	}
	f, ok := g.Metrics[metric]
	if !ok || len(f.Samples) != 1 {
		return 0, false
	}
	return f.Samples[0].Value, true
}

func (g *group) export() Group {
	out := Group{Labels: maps.Clone(g.labels), Metrics: map[string]Family{}}
	for name, mf := range g.families {
		f := Family{Type: strings.ToLower(mf.GetType().String()), Help: mf.GetHelp()}
		for _, m := range mf.GetMetric() {
			sm := Sample{Labels: map[string]string{}}
			for _, lp := range m.GetLabel() {
				sm.Labels[lp.GetName()] = lp.GetValue()
			}
			switch {
			case m.Gauge != nil:
				sm.Value = m.GetGauge().GetValue()
			case m.Counter != nil:
				sm.Value = m.GetCounter().GetValue()
			case m.Untyped != nil:
				sm.Value = m.GetUntyped().GetValue()
			}
			f.Samples = append(f.Samples, sm)
		}
		out.Metrics[name] = f
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	rec := Request{
		Method:        r.Method,
		Path:          r.URL.EscapedPath(),
		ContentType:   r.Header.Get("Content-Type"),
		Authorization: r.Header.Get("Authorization") != "",
		UserAgent:     r.UserAgent(),
		Body:          body,
	}
	s.mu.Lock()
	delay, override := s.delay, s.answer
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	status, text := s.handle(w, r, body, override)
	rec.Status, rec.Answer = status, text
	s.Record(rec)
}

// handle answers one request and returns what it answered.
func (s *Server) handle(w http.ResponseWriter, r *http.Request, body []byte, override *answer) (int, string) {
	if override != nil {
		maps.Copy(w.Header(), override.header)
		w.WriteHeader(override.status)
		_, _ = io.WriteString(w, override.body)
		return override.status, override.body
	}
	fail := func(status int, msg string) (int, string) {
		http.Error(w, msg, status)
		return status, msg
	}
	if s.cfg.Username != "" {
		// exporter-toolkit's basic auth answers 401 with a challenge.
		user, pass, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(s.cfg.Username)) != 1 || subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", "Basic")
			return fail(http.StatusUnauthorized, http.StatusText(http.StatusUnauthorized))
		}
	}
	// The gateway's HTTP server (net/http ServeMux) redirects paths that
	// are not clean; the router then matches the decoded path.
	rest, ok := strings.CutPrefix(r.URL.Path, s.cfg.RoutePrefix+"/metrics/job")
	if !ok || !(strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "@base64/")) {
		return fail(http.StatusNotFound, "404 page not found")
	}
	switch r.Method {
	case http.MethodPut, http.MethodPost, http.MethodDelete:
	default:
		// The router knows the path for PUT, POST and DELETE only.
		w.Header().Set("Allow", "DELETE, OPTIONS, POST, PUT")
		return fail(http.StatusMethodNotAllowed, http.StatusText(http.StatusMethodNotAllowed))
	}
	labels, err := parsePath(rest)
	if err != nil {
		return fail(http.StatusBadRequest, err.Error())
	}
	if r.Method == http.MethodDelete {
		// spec, Methods: DELETE "deletes the group … always 202".
		s.mu.Lock()
		delete(s.groups, groupingKey(labels))
		s.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		return http.StatusAccepted, ""
	}
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		// spec, Body: "Optional Content-Encoding: gzip on PUT/POST".
		zr, err := gzip.NewReader(strings.NewReader(string(body)))
		if err != nil {
			return fail(http.StatusBadRequest, err.Error())
		}
		if body, err = io.ReadAll(zr); err != nil {
			return fail(http.StatusBadRequest, err.Error())
		}
	}
	families, err := parseBody(r.Header.Get("Content-Type"), body)
	if err != nil {
		// spec, Responses: "400 text-parser error".
		return fail(http.StatusBadRequest, err.Error())
	}
	now := time.Now()
	replace := r.Method == http.MethodPut
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Unchecked {
		// Queued without the consistency check; a push with timestamps is
		// still dropped, as a failed push (storage's checkWriteRequest
		// without a Done channel).
		if hasTimestamps(families) {
			s.setFailed(labels, now)
		} else {
			s.store(labels, families, replace, now)
		}
		w.WriteHeader(http.StatusAccepted)
		return http.StatusAccepted, ""
	}
	if err := s.check(labels, families); err != nil {
		s.setFailed(labels, now)
		// spec, Responses: "400 pushed metrics are invalid or inconsistent
		// with existing metrics: …".
		return fail(http.StatusBadRequest, "pushed metrics are invalid or inconsistent with existing metrics: "+err.Error())
	}
	s.store(labels, families, replace, now)
	// spec, Responses: "200, empty body | push stored and checked".
	w.WriteHeader(http.StatusOK)
	return http.StatusOK, ""
}

// parsePath reads the grouping key after /metrics/job, as the gateway's
// push handler does (spec, URL table; handler/push.go splitLabels).
func parsePath(rest string) (map[string]string, error) {
	jobBase64 := false
	if r, ok := strings.CutPrefix(rest, "@base64"); ok {
		jobBase64, rest = true, r
	}
	rest = strings.TrimPrefix(rest, "/")
	job, labelPath, _ := strings.Cut(rest, "/")
	if labelPath != "" {
		labelPath = "/" + labelPath
	}
	if jobBase64 {
		// The gateway quotes what it decoded before the error, not what
		// was sent.
		decoded, err := decodeBase64(job)
		if err != nil {
			return nil, fmt.Errorf("invalid base64 encoding in job name %q: %v", decoded, err)
		}
		job = decoded
	}
	labels := map[string]string{}
	if len(labelPath) > 1 {
		parts := strings.Split(labelPath[1:], "/")
		if len(parts)%2 != 0 {
			return nil, fmt.Errorf("odd number of components in label string %q", labelPath)
		}
		for i := 0; i < len(parts); i += 2 {
			name, value := parts[i], parts[i+1]
			trimmed := strings.TrimSuffix(name, "@base64")
			// spec, URL: "Label names must be valid Prometheus label names".
			if !model.LegacyValidation.IsValidLabelName(trimmed) || strings.HasPrefix(trimmed, model.ReservedLabelPrefix) {
				return nil, fmt.Errorf("improper label name %q", trimmed)
			}
			if name != trimmed {
				// spec, URL: "Append @base64 … URL-safe alphabet; padding
				// optional".
				decoded, err := decodeBase64(value)
				if err != nil {
					return nil, fmt.Errorf("invalid base64 encoding for label %s=%q: %v", trimmed, value, err)
				}
				value = decoded
			}
			labels[trimmed] = value
		}
	}
	if job == "" {
		// spec, Responses: "400 job name is required".
		return nil, errors.New("job name is required")
	}
	labels["job"] = job
	return labels, nil
}

func decodeBase64(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	return string(b), err
}

// parseBody parses the text format, or delimited protobuf when the
// Content-Type says so (spec, Body: "anything else is parsed as text").
func parseBody(contentType string, body []byte) (map[string]*dto.MetricFamily, error) {
	media, params, err := mime.ParseMediaType(contentType)
	if err == nil && media == "application/vnd.google.protobuf" && params["encoding"] == "delimited" && params["proto"] == "io.prometheus.client.MetricFamily" {
		out := map[string]*dto.MetricFamily{}
		in := bufio.NewReader(strings.NewReader(string(body)))
		for {
			mf := &dto.MetricFamily{}
			if err := (protodelim.UnmarshalOptions{MaxSize: -1}).UnmarshalFrom(in, mf); err != nil {
				if errors.Is(err, io.EOF) {
					return out, nil
				}
				return nil, err
			}
			out[mf.GetName()] = mf
		}
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	return parser.TextToMetricFamilies(strings.NewReader(string(body)))
}

// check reports why a push is refused: sample timestamps (spec, Body: "No
// sample timestamps"), or a metric whose type differs from the same name
// in another group (spec, Responses: "inconsistent with other groups (same
// name, different type …)").
func (s *Server) check(labels map[string]string, families map[string]*dto.MetricFamily) error {
	if hasTimestamps(families) {
		return errors.New("pushed metrics must not have timestamps")
	}
	key := groupingKey(labels)
	for name, mf := range families {
		for k, g := range s.groups {
			if k == key {
				continue
			}
			if other, ok := g.families[name]; ok && other.GetType() != mf.GetType() {
				return fmt.Errorf("collected metric %q has type %s in another group, pushed as %s", name, other.GetType(), mf.GetType())
			}
		}
	}
	return nil
}

func hasTimestamps(families map[string]*dto.MetricFamily) bool {
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			if m.TimestampMs != nil {
				return true
			}
		}
	}
	return false
}

// store applies a checked push: the group's metrics of the pushed names
// (POST) or all of them (PUT) are replaced, push_time_seconds set and
// push_failure_time_seconds kept (spec, Methods; storage's
// processWriteRequest).
func (s *Server) store(labels map[string]string, families map[string]*dto.MetricFamily, replace bool, now time.Time) {
	g := s.group(labels)
	if replace {
		for name := range g.families {
			if name != PushTimeMetric && name != PushFailureTimeMetric {
				delete(g.families, name)
			}
		}
	}
	for name, mf := range families {
		sanitizeLabels(mf, labels)
		g.families[name] = mf
	}
	// spec, Metrics the gateway adds: "They override pushed metrics of the
	// same name".
	g.families[PushTimeMetric] = timestampGauge(PushTimeMetric, labels, now)
	if _, ok := g.families[PushFailureTimeMetric]; !ok {
		g.families[PushFailureTimeMetric] = timestampGauge(PushFailureTimeMetric, labels, time.Time{})
	}
}

// setFailed records a refused push in its group, creating it if need be
// (storage's setPushFailedTimestamp).
func (s *Server) setFailed(labels map[string]string, now time.Time) {
	g := s.group(labels)
	g.families[PushFailureTimeMetric] = timestampGauge(PushFailureTimeMetric, labels, now)
	if _, ok := g.families[PushTimeMetric]; !ok {
		g.families[PushTimeMetric] = timestampGauge(PushTimeMetric, labels, time.Time{})
	}
}

func (s *Server) group(labels map[string]string) *group {
	key := groupingKey(labels)
	g, ok := s.groups[key]
	if !ok {
		g = &group{labels: maps.Clone(labels), families: map[string]*dto.MetricFamily{}}
		s.groups[key] = g
	}
	return g
}

// sanitizeLabels gives every sample the grouping labels, overwriting its
// own of the same names, and an empty instance label when it has none
// (spec, URL: "Labels in the body that are also in the grouping key are
// overwritten by the URL values"; storage's sanitizeLabels).
func sanitizeLabels(mf *dto.MetricFamily, grouping map[string]string) {
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		maps.Copy(have, grouping)
		if _, ok := have["instance"]; !ok {
			have["instance"] = ""
		}
		m.Label = m.Label[:0]
		for _, name := range slices.Sorted(maps.Keys(have)) {
			m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(name), Value: proto.String(have[name])})
		}
	}
}

func timestampGauge(name string, labels map[string]string, t time.Time) *dto.MetricFamily {
	v := 0.0
	if !t.IsZero() {
		v = float64(t.UnixNano()) / 1e9
	}
	help := "Last Unix time when changing this group in the Pushgateway succeeded."
	if name == PushFailureTimeMetric {
		help = "Last Unix time when changing this group in the Pushgateway failed."
	}
	mf := &dto.MetricFamily{
		Name:   proto.String(name),
		Help:   proto.String(help),
		Type:   dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(v)}}},
	}
	sanitizeLabels(mf, labels)
	return mf
}

// groupingKey identifies a group by its labels, in a stable order.
func groupingKey(labels map[string]string) string {
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s=%q,", n, labels[n])
	}
	return b.String()
}
