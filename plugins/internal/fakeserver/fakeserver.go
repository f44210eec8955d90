// Package fakeserver is the plumbing the bundled targets' fake servers
// share, so that each fake holds only what its spec says the service
// does: an httptest server (plain or TLS) and its CA, a log of the
// requests received, the faults a test switches on (an outage, a delay),
// and a Retry-After value for rate-limited answers.
//
// A fake embeds the parts it needs in its Server type; their methods then
// read as the fake's own (srv.Requests(), srv.SetOutage(503)). Every
// method is safe for concurrent use.
package fakeserver

import (
	"context"
	"encoding/pem"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// HTTP is a running httptest server.
type HTTP struct {
	srv *httptest.Server
}

// Start serves h on 127.0.0.1, over HTTPS with httptest's certificate
// when tls is true; Close stops it.
func Start(h http.Handler, tls bool) *HTTP {
	if tls {
		return &HTTP{srv: httptest.NewTLSServer(h)}
	}
	return &HTTP{srv: httptest.NewServer(h)}
}

// Close stops the server.
func (h *HTTP) Close() { h.srv.Close() }

// URL is the server's root, e.g. http://127.0.0.1:1234.
func (h *HTTP) URL() string { return h.srv.URL }

// Client returns an HTTP client that trusts the server's certificate.
func (h *HTTP) Client() *http.Client { return h.srv.Client() }

// CACertPEM returns the PEM of the certificate a TLS server serves, which
// a client trusts with ca_file; nil without TLS.
func (h *HTTP) CACertPEM() []byte {
	if h.srv.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.srv.Certificate().Raw})
}

// WriteText answers status with text as a plain-text body, with an
// exact Content-Length, and header's fields added (they replace the
// defaults).
func WriteText(w http.ResponseWriter, status int, text string, header http.Header) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	maps.Copy(h, header)
	h.Set("Content-Length", strconv.Itoa(len(text)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}

// Log is the requests a fake received, of the fake's own record type R.
type Log[R any] struct {
	mu       sync.Mutex
	requests []R
}

// Record adds a request to the log.
func (l *Log[R]) Record(r R) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.requests = append(l.requests, r)
}

// Requests returns every request received, oldest first.
func (l *Log[R]) Requests() []R {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]R(nil), l.requests...)
}

// LastRequest returns the latest request; ok is false when none came.
func (l *Log[R]) LastRequest() (r R, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.requests) == 0 {
		return r, false
	}
	return l.requests[len(l.requests)-1], true
}

// RetryAfterHeader is the Retry-After header a fake's rate-limited answers
// carry, for fakes of services that send one.
type RetryAfterHeader struct {
	mu sync.Mutex
	v  string
}

// SetRetryAfter sets the Retry-After header of the fake's rate-limited
// answers; "" leaves it out. Each fake documents its default.
func (h *RetryAfterHeader) SetRetryAfter(v string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.v = v
}

// RetryAfter is the value SetRetryAfter set.
func (h *RetryAfterHeader) RetryAfter() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.v
}

// Faults are the misbehaviours a test switches a fake into. The zero
// value has none.
type Faults struct {
	mu     sync.Mutex
	outage int
	delay  time.Duration
}

// SetOutage makes every request get status, as a load balancer in front
// of a failing service answers (502, 503, 408, or a proxy's 4xx); 0 ends
// the outage. How the fake answers is its own: see its ServeHTTP.
func (f *Faults) SetOutage(status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outage = status
}

// Outage is the status SetOutage set; 0 when there is no outage.
func (f *Faults) Outage() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.outage
}

// SetDelay makes the server wait d before answering (less if the client
// gives up first).
func (f *Faults) SetDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// Wait waits the delay SetDelay set, or until ctx (the request's) ends;
// it reports whether the client is still there.
func (f *Faults) Wait(ctx context.Context) bool {
	f.mu.Lock()
	d := f.delay
	f.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	return ctx.Err() == nil
}
