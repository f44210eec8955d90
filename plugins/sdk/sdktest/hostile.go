package sdktest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// endlessBytes is where EndlessBody stops if the client never does: far
// more than any client may read (httpclient.MaxBodyBytes is 64 KiB).
const endlessBytes = 1 << 30

// maxWritten is what a server may have written when a beat ends: socket
// buffers hold a few MB at most, so more means the client read on.
const maxWritten = 256 << 20

// maxBeatTime bounds a hostile case: the bound is the case's timeout, and
// this is many times it, for a loaded machine, never a speed claim.
const maxBeatTime = 30 * time.Second

// HostileCase is one misbehaving server and what a target must make of
// it.
type HostileCase struct {
	Name    string
	Handler http.HandlerFunc
	// Timeout is the target's timeout setting for the case, e.g. "500ms".
	Timeout string
	// OK is true when the beat must succeed, with Wording as its Detail.
	OK bool
	// Kind is the error's kind when OK is false.
	Kind sdk.Kind
	// Wording is the Detail of a success, or what the error must hold.
	Wording string
}

// Hostile describes a target to RunHostile.
type Hostile struct {
	// Secret must not show in any error.
	Secret string
	// MaxError bounds an error's length in bytes; 600 when 0.
	MaxError int
	// Beat configures a new instance of the target whose requests go to
	// serverURL (scheme, host and port) with the given timeout setting,
	// and sends it one beat.
	Beat func(t *testing.T, serverURL, timeout string) (sdk.Result, error)
}

// RunHostile runs each case as a subtest against a server on 127.0.0.1
// and checks that the beat ends within a bound (its timeout, generously),
// that the client stopped reading an endless body, and that an error has
// the case's kind and wording on one bounded line without the secret,
// control characters or a quoted page. The server reads the request's body
// first, so that it notices the client hang up.
func RunHostile(t *testing.T, h Hostile, cases []HostileCase) {
	t.Helper()
	if h.Beat == nil {
		t.Fatal("sdktest.Hostile needs Beat")
	}
	maxError := h.MaxError
	if maxError == 0 {
		maxError = 600
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			var written atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				tc.Handler(&countingWriter{ResponseWriter: w, n: &written}, r)
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(srv.CloseClientConnections)
			start := time.Now()
			res, err := h.Beat(t, srv.URL, tc.Timeout)
			if d := time.Since(start); d > maxBeatTime {
				t.Errorf("took %s with a timeout of %s", d, tc.Timeout)
			}
			if n := written.Load(); n > maxWritten {
				t.Errorf("the server wrote %d bytes before the client hung up", n)
			}
			if tc.OK {
				if err != nil || res.Detail != tc.Wording {
					t.Errorf("got %q, %v; want %q", res.Detail, err, tc.Wording)
				}
				return
			}
			if err == nil {
				t.Fatalf("succeeded with %q; want %s with %q", res.Detail, tc.Kind, tc.Wording)
			}
			msg := err.Error()
			if sdk.KindOf(err) != tc.Kind || !strings.Contains(msg, tc.Wording) {
				t.Errorf("got %s %q, want %s with %q", sdk.KindOf(err), cut(msg, 300), tc.Kind, tc.Wording)
			}
			if len(msg) > maxError || strings.ContainsFunc(msg, unicode.IsControl) {
				t.Errorf("error is not one bounded line (%d bytes): %q", len(msg), cut(msg, 300))
			}
			if strings.Contains(msg, "</") {
				t.Errorf("error quotes a page: %q", cut(msg, 300))
			}
			if h.Secret != "" && strings.Contains(msg, h.Secret) {
				t.Errorf("error shows the secret: %q", cut(msg, 300))
			}
		})
	}
}

// RunDeadline checks that the caller's deadline ends a beat to a server
// that never answers, even when the target's own timeout is far longer:
// the beat fails as temporary, within a bound many times the deadline.
// configure configures a new instance of the target for serverURL with a
// long timeout setting (say "1h") and returns its client and instance
// name; the beat goes through the real contract with a 300ms deadline.
func RunDeadline(t *testing.T, configure func(t *testing.T, serverURL string) (c sdk.Client, instance string)) {
	t.Helper()
	srv := httptest.NewServer(NoAnswer())
	t.Cleanup(srv.Close)
	t.Cleanup(srv.CloseClientConnections)
	c, instance := configure(t, srv.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Beat(ctx, c, instance, "nightly", sdk.Beat{Signal: sdk.SignalSuccess})
	if err == nil || sdk.KindOf(err) != sdk.KindTemporary {
		t.Errorf("got %s %v, want a temporary error", sdk.KindOf(err), err)
	}
	if d := time.Since(start); d > maxBeatTime {
		t.Errorf("took %s despite a 300ms deadline", d)
	}
}

// cut bounds a message a test prints.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// countingWriter counts what a handler writes, for RunHostile.
type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n.Add(int64(n))
	return n, err
}

// Flush lets a trickling handler push each byte out.
func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// EndlessBody answers status and then repeats chunk until the client
// stops reading (or a gigabyte is written).
func EndlessBody(status int, chunk []byte) http.HandlerFunc {
	if len(chunk) == 0 {
		chunk = bytes.Repeat([]byte("A"), 32<<10)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		for n := 0; n < endlessBytes && r.Context().Err() == nil; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// TrickleBody answers status and then one byte every 50ms until the
// client hangs up: only a timeout on the whole answer ends it.
func TrickleBody(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		for r.Context().Err() == nil {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			select {
			case <-time.After(50 * time.Millisecond):
			case <-r.Context().Done():
			}
		}
	}
}

// NoAnswer answers nothing until the client gives up (or a minute
// passes, so that a broken client cannot hold the server forever). It
// reads the request's body first: until then the server does not notice
// the client hang up.
func NoAnswer() http.HandlerFunc {
	return func(_ http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-time.After(time.Minute):
		}
	}
}

// Answer answers status with body, e.g. a line of control characters or
// an error page that echoes the request.
func Answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}
