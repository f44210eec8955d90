package sdktest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Redirects describes a target to RunRedirects.
type Redirects struct {
	// Secret is what must never reach another server nor show in an
	// error: a token, a key, a password.
	Secret string
	// Path is a request path holding Secret, as the target sends it
	// (e.g. "/p/<key>/nightly"). The redirects point at it: on another
	// server, and on the same one under /moved.
	Path string
	// Status and Body are what the server answers a request that
	// reached it after a redirect: 200 when 0, "OK" when empty. They
	// must make an answer the target takes as success.
	Status int
	Body   string
	// Beat configures a new instance of the target whose requests go to
	// serverURL (scheme, host and port; a self-signed https server when
	// tls is true, so the instance must skip verification) and sends it
	// one beat.
	Beat func(t *testing.T, serverURL string, tls bool) (sdk.Result, error)
}

// RunRedirects checks that a target's secrets never follow a redirect:
// a redirect to another host, or from https to plain http, fails with a
// permanent error that names the reason and not the secret, and the
// other server receives nothing; a redirect on the same server is
// followed, without a Referer. Each case runs as a subtest.
func RunRedirects(t *testing.T, r Redirects) {
	t.Helper()
	if r.Secret == "" || r.Beat == nil || !strings.HasPrefix(r.Path, "/") {
		t.Fatal("sdktest.Redirects needs Secret, Beat and a Path starting with /")
	}
	status, body := r.Status, r.Body
	if status == 0 {
		status = http.StatusOK
	}
	if body == "" {
		body = "OK"
	}
	var mu sync.Mutex
	var elsewhere []string // what the other server received
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		mu.Lock()
		elsewhere = append(elsewhere, req.Method+" "+req.URL.String()+" "+headerText(req.Header)+" "+string(body))
		mu.Unlock()
		w.WriteHeader(status)
	}))
	defer other.Close()
	tests := []struct {
		name    string
		tls     bool
		to      string // the redirect's target; on the server itself when it starts with /
		wantErr string // "" when delivered
	}{
		{"to another host", false, other.URL + r.Path, "another host"},
		{"from https to plain http", true, other.URL + r.Path, "plain http"},
		{"on the same server", false, "/moved" + r.Path, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var referers, reached atomic.Int32
			handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, 1<<20))
				if req.Header.Get("Referer") != "" {
					referers.Add(1)
				}
				if strings.HasPrefix(req.URL.Path, "/moved/") {
					reached.Add(1)
					w.WriteHeader(status)
					_, _ = io.WriteString(w, body)
					return
				}
				http.Redirect(w, req, tt.to, http.StatusTemporaryRedirect)
			})
			var srv *httptest.Server
			if tt.tls {
				srv = httptest.NewTLSServer(handler)
			} else {
				srv = httptest.NewServer(handler)
			}
			defer srv.Close()
			_, err := r.Beat(t, srv.URL, tt.tls)
			mu.Lock()
			got := append([]string(nil), elsewhere...)
			elsewhere = nil
			mu.Unlock()
			if len(got) > 0 {
				t.Errorf("the other server received %d request(s): %q", len(got), got)
			}
			if referers.Load() > 0 {
				t.Error("a Referer was sent")
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("not delivered: %v", err)
			case tt.wantErr == "" && reached.Load() == 0:
				t.Error("the redirect on the same server was not followed")
			case tt.wantErr == "":
			case err == nil:
				t.Errorf("delivered; want a permanent error with %q", tt.wantErr)
			case sdk.KindOf(err) != sdk.KindPermanent || !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error %v (%s), want a permanent one with %q", err, sdk.KindOf(err), tt.wantErr)
			case strings.Contains(err.Error(), r.Secret):
				t.Errorf("error shows the secret: %v", err)
			}
		})
	}
}

// headerText is every header of a request on one line.
func headerText(h http.Header) string {
	var b strings.Builder
	for k, vs := range h {
		b.WriteString(k + "=" + strings.Join(vs, ",") + " ")
	}
	return b.String()
}
