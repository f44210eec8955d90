package heartbeattest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Request is one request a fake received.
type Request struct {
	Method string
	Path   string
	Query  string
	Body   string
}

// Recorder keeps the requests a fake received.
type Recorder struct {
	mu   sync.Mutex
	reqs []Request
}

func (r *Recorder) add(req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Body: string(body)})
}

// Requests returns a copy of the requests received so far, in order.
func (r *Recorder) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Healthchecks is a self-hosted Healthchecks ping endpoint at /ping/ that
// knows one check UUID. It answers as the real server does
// (../shared/spec/healthchecks.md, "Responses", "self-hosted server"
// column, and "Observed on a real server"): 200 "OK" with a
// Ping-Body-Limit header for the known UUID on any of its signal paths, 404
// "not found" for another UUID.
type Healthchecks struct {
	Recorder
	Server *httptest.Server
	UUID   string
}

// NewHealthchecks starts the fake; it is closed when the test ends.
func NewHealthchecks(t testing.TB, uuid string) *Healthchecks {
	hc := &Healthchecks{UUID: uuid}
	hc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		hc.add(req)
		rest, ok := strings.CutPrefix(req.URL.Path, "/ping/")
		id, _, _ := strings.Cut(rest, "/")
		if !ok || id != hc.UUID {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		w.Header().Set("Ping-Body-Limit", "10000")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "OK")
	}))
	t.Cleanup(hc.Server.Close)
	return hc
}

// PingURL is the check's ping URL, as Healthchecks shows it.
func (hc *Healthchecks) PingURL() string { return hc.Server.URL + "/ping/" + hc.UUID }

// UptimeKuma is an Uptime Kuma 2.x push endpoint that knows one push
// token, answering as ../shared/spec/uptime-kuma.md, "The endpoint",
// records: 200 {"ok":true} for the token, 404 {"ok":false,"msg":"Monitor
// not found or not active."} for any other.
type UptimeKuma struct {
	Recorder
	Server *httptest.Server
	Token  string
}

// NewUptimeKuma starts the fake; it is closed when the test ends.
func NewUptimeKuma(t testing.TB, token string) *UptimeKuma {
	k := &UptimeKuma{Token: token}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		k.add(req)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if req.URL.Path != "/api/push/"+k.Token {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"ok":false,"msg":"Monitor not found or not active."}`)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(k.Server.Close)
	return k
}

// PushURL is the monitor's push URL as Uptime Kuma's UI shows it.
func (k *UptimeKuma) PushURL() string {
	return k.Server.URL + "/api/push/" + k.Token + "?status=up&msg=OK&ping="
}

// ButlerSOS is Butler SOS's health endpoint: with
// Butler-SOS.dockerHealthCheck.enable set, Butler SOS registers the
// fastify-healthcheck plugin, which serves GET /health (src/butler-sos.js;
// its image's own probe, src/docker-healthcheck.js, takes a 200 there as
// healthy). Only the status code is relied on; the body here is
// arbitrary, as heartbeat's check does not read it without `expect`.
func NewButlerSOS(t testing.TB) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/health" {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = io.WriteString(w, `{"statusCode":200,"status":"ok"}`)
	}))
	t.Cleanup(s.Close)
	return s
}
