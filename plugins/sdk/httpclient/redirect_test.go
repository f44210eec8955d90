package httpclient_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

const secret = "s3cr3t-7b3d-4c5e-8f6a-0b1c2d3e4f5a"

// recorder is a server that records what reaches it and redirects where
// the test says.
type recorder struct {
	mu       sync.Mutex
	requests []*http.Request
	redirect func(r *http.Request) (status int, location string)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.requests = append(rec.requests, r.Clone(context.Background()))
	redirect := rec.redirect
	rec.mu.Unlock()
	if redirect != nil {
		if status, loc := redirect(r); loc != "" {
			w.Header().Set("Location", loc)
			w.WriteHeader(status)
			return
		}
	}
	w.WriteHeader(http.StatusOK)
}

func (rec *recorder) got() []*http.Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]*http.Request(nil), rec.requests...)
}

func (rec *recorder) set(f func(r *http.Request) (int, string)) {
	rec.mu.Lock()
	rec.redirect = f
	rec.mu.Unlock()
}

// A redirect never takes the target's secrets (URL, headers, Referer) to
// another server or over plain http; on the same server it is followed
// without a Referer.
func TestRedirects(t *testing.T) {
	origin := &recorder{}
	originSrv := httptest.NewServer(origin)
	defer originSrv.Close()
	other := &recorder{}
	otherSrv := httptest.NewServer(other) // another port: another origin
	defer otherSrv.Close()
	secure := &recorder{}
	secureSrv := httptest.NewTLSServer(secure)
	defer secureSrv.Close()
	// The origin under another name: the same listener, another host.
	byName := strings.Replace(originSrv.URL, "127.0.0.1", "localhost", 1)

	tests := []struct {
		name      string
		start     string // the first URL
		policy    httpclient.Redirects
		redirect  func(r *http.Request) (int, string)
		wantErr   string // "" when delivered
		wantFinal string // path of the last request, when delivered
		wantCode  int
		// leak is the server that must see no request at all.
		leak *recorder
	}{
		{"307 to another port", originSrv.URL + "/ping/" + secret, httpclient.RedirectsSameHost,
			func(*http.Request) (int, string) { return 307, otherSrv.URL + "/collect" }, "another host", "", 0, other},
		{"302 to another host name", originSrv.URL + "/ping/" + secret, httpclient.RedirectsSameHost,
			func(r *http.Request) (int, string) {
				if r.Host == strings.TrimPrefix(originSrv.URL, "http://") {
					return 302, byName + "/collect"
				}
				t.Error("the redirect to another host name was followed")
				return 0, ""
			}, "another host", "", 0, nil},
		{"https to plain http", secureSrv.URL + "/ping/" + secret, httpclient.RedirectsSameHost,
			func(*http.Request) (int, string) { return 308, otherSrv.URL + "/collect" }, "plain http", "", 0, other},
		{"same host, relative", originSrv.URL + "/ping/" + secret, httpclient.RedirectsSameHost,
			func(r *http.Request) (int, string) {
				if strings.HasPrefix(r.URL.Path, "/ping/") {
					return 307, "/moved"
				}
				return 0, ""
			}, "", "/moved", 200, nil},
		{"none: the redirect is the answer", originSrv.URL + "/ping/" + secret, httpclient.RedirectsNone,
			func(r *http.Request) (int, string) {
				if strings.HasPrefix(r.URL.Path, "/ping/") {
					return 307, "/moved"
				}
				t.Error("a redirect was followed with follow_redirects none")
				return 0, ""
			}, "", "/ping/" + secret, 307, nil},
		{"endless redirects", originSrv.URL + "/ping/" + secret, httpclient.RedirectsSameHost,
			func(r *http.Request) (int, string) { return 302, "/again" + r.URL.Path }, "stopped after 10 redirects", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin.set(tt.redirect)
			secure.set(tt.redirect)
			other.set(nil)
			before := len(other.got())
			seenOrigin, seenSecure := len(origin.got()), len(secure.got())
			client, err := httpclient.New(5*time.Second, httpclient.TLSSettings{InsecureSkipVerify: true}, httpclient.FollowRedirects(tt.policy))
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodPost, tt.start, strings.NewReader("body"))
			req.Header.Set("X-Token", secret)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			resp, err := httpclient.Do(ctx, client, req)
			if tt.leak != nil && len(tt.leak.got()) != before {
				t.Errorf("the other server received %d request(s)", len(tt.leak.got())-before)
			}
			if tt.wantErr != "" {
				switch {
				case err == nil:
					t.Fatalf("delivered (%d); want an error with %q", resp.StatusCode, tt.wantErr)
				case !strings.Contains(err.Error(), tt.wantErr):
					t.Errorf("error %q lacks %q", err, tt.wantErr)
				case strings.Contains(err.Error(), secret):
					t.Errorf("error shows the secret: %q", err)
				case tt.wantErr != "stopped after 10 redirects" && sdk.KindOf(err) != sdk.KindPermanent:
					t.Errorf("kind %s, want permanent", sdk.KindOf(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("not delivered: %v", err)
			}
			if resp.StatusCode != tt.wantCode {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantCode)
			}
			reqs := append(origin.got()[seenOrigin:], secure.got()[seenSecure:]...)
			if len(reqs) == 0 || reqs[len(reqs)-1].URL.Path != tt.wantFinal {
				t.Fatalf("requests %v, want the last for %s", reqs, tt.wantFinal)
			}
			for _, r := range reqs {
				if ref := r.Header.Get("Referer"); ref != "" {
					t.Errorf("%s got a Referer: %q", r.URL.Path, ref)
				}
			}
		})
	}
}

// A Referer the target sets itself is kept; only net/http's is dropped.
func TestRedirectKeepsOwnReferer(t *testing.T) {
	rec := &recorder{}
	rec.set(func(r *http.Request) (int, string) {
		if r.URL.Path == "/a" {
			return 302, "/b"
		}
		return 0, ""
	})
	srv := httptest.NewServer(rec)
	defer srv.Close()
	client, err := httpclient.New(5*time.Second, httpclient.TLSSettings{})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/a", nil)
	req.Header.Set("Referer", "https://me.example.com/")
	if _, err := httpclient.Do(context.Background(), client, req); err != nil {
		t.Fatal(err)
	}
	for _, r := range rec.got() {
		if got := r.Header.Get("Referer"); got != "https://me.example.com/" {
			t.Errorf("%s: Referer %q, want the target's own", r.URL.Path, got)
		}
	}
}

func TestParseRedirects(t *testing.T) {
	for in, want := range map[string]httpclient.Redirects{"": httpclient.RedirectsSameHost, "same_host": httpclient.RedirectsSameHost, " NONE ": httpclient.RedirectsNone} {
		if got, err := httpclient.ParseRedirects(in); err != nil || got != want {
			t.Errorf("ParseRedirects(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := httpclient.ParseRedirects("any"); err == nil || !strings.Contains(err.Error(), "same_host or none") {
		t.Errorf("ParseRedirects(any) = %v, want an error naming the choices", err)
	}
}
