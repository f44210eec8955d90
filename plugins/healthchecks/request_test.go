package main

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func TestQueryAsValuesEncode(t *testing.T) {
	for _, rid := range []string{"", "3f8a2d7e-4b1c-4e9a-8d2f-6c5b4a3e2d1f", "a b&c"} {
		for _, create := range []bool{false, true} {
			q := url.Values{}
			if rid != "" {
				q.Set("rid", rid)
			}
			if create {
				q.Set("create", "1")
			}
			if got, want := query(rid, create), q.Encode(); got != want {
				t.Errorf("query(%q, %v) = %q, want %q", rid, create, got, want)
			}
		}
	}
}

// TestNewRequestAsNewRequest checks that the request built from the
// parsed URL is the one http.NewRequest builds from the URL written out.
func TestNewRequestAsNewRequest(t *testing.T) {
	in := newInstance(config{headers: map[string]string{"X-Env": "prod", "Authorization": "Bearer t0k"}}, nil, hclog.NewNullLogger())
	urls := []string{
		"https://hc-ping.com/5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278/start?rid=3f8a2d7e-4b1c-4e9a-8d2f-6c5b4a3e2d1f",
		"http://127.0.0.1:/hc/ping/key/my-slug?create=1",
		"https://user:pw@[::1]:8000/ping/a%2Fb/fail",
	}
	for _, raw := range urls {
		for _, body := range [][]byte{nil, []byte("exit 0")} {
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			got := in.newRequest(http.MethodPost, u, body)
			want, err := http.NewRequest(http.MethodPost, raw, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if got.URL.String() != want.URL.String() || sentHost(got) != sentHost(want) || got.Proto != want.Proto ||
				got.ContentLength != want.ContentLength || got.URL.RequestURI() != want.URL.RequestURI() {
				t.Errorf("%s: got %s Host %q %s length %d, want %s Host %q %s length %d", sdk.RedactURL(raw),
					got.URL, sentHost(got), got.Proto, got.ContentLength, want.URL, sentHost(want), want.Proto, want.ContentLength)
			}
			for _, r := range []io.ReadCloser{got.Body, mustGetBody(t, got)} {
				b, _ := io.ReadAll(r)
				if !bytes.Equal(b, body) {
					t.Errorf("body %q, want %q", b, body)
				}
			}
			if got.Header.Get("User-Agent") != sdk.UserAgent() || got.Header.Get("X-Env") != "prod" || got.Header.Get("Authorization") != "Bearer t0k" {
				t.Errorf("headers %v", got.Header)
			}
			if wantType := map[bool]string{false: "", true: "text/plain; charset=utf-8"}[len(body) > 0]; got.Header.Get("Content-Type") != wantType {
				t.Errorf("Content-Type %q, want %q", got.Header.Get("Content-Type"), wantType)
			}
		}
	}
}

func mustGetBody(t *testing.T, r *http.Request) io.ReadCloser {
	t.Helper()
	b, err := r.GetBody()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sentHost is the Host net/http sends for r: r.Host, or the URL's host
// when r.Host is empty.
func sentHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}
