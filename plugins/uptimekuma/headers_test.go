package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/uptimekuma/kumafake"
)

// headers are sent with every push, e.g. to a reverse proxy that checks
// them; their values are secrets, never shown.
func TestHeadersSent(t *testing.T) {
	kuma := kumafake.New(t, kumafake.Options{})
	token := kuma.AddMonitor()
	const secret = "Bearer proxy-s3cr3t-value"
	var mu sync.Mutex
	var seen []http.Header
	// A proxy in front of the fake that refuses requests without the
	// header, as an authenticating reverse proxy does.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		if r.Header.Get("Authorization") != secret {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		kuma.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	p := dial(t)
	desc := p.mustConfigure(conf{"base_url": proxy.URL, "token": token, "headers": map[string]string{"Authorization": secret, "X-Team": "ops"}})
	if strings.Contains(desc, secret) {
		t.Errorf("Describe shows a header value: %s", desc)
	}
	if _, err := p.beat(sdk.Beat{Signal: sdk.SignalFail, Message: "exit code 3"}); err != nil {
		t.Fatal(err)
	}
	beats := kuma.Beats(token)
	if len(beats) != 1 || beats[0].Status != kumafake.Down {
		t.Fatalf("beats %+v", beats)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0].Get("X-Team") != "ops" || seen[0].Get("Accept") != "application/json" {
		t.Errorf("headers %v", seen)
	}
}

func TestHeadersRejected(t *testing.T) {
	const secret = "v@lue-that-is-secret"
	cases := []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"bad name", map[string]string{"Bad Name": "x"}, "not a valid header name"},
		{"line break in value", map[string]string{"Authorization": secret + "\nX: 1"}, "line break"},
		{"accept", map[string]string{"accept": "text/html"}, "Accept is set by heartbeat"},
		{"host", map[string]string{"Host": "elsewhere.example"}, "Host is set by heartbeat"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := dial(t).configure(conf{"push_url": "https://kuma.example.com/api/push/abcdefgh", "headers": c.headers})
			fes := sdk.AsFieldErrors(err)
			if len(fes) != 1 || fes[0].Field != "headers" || !strings.Contains(fes[0].Message, c.want) {
				t.Fatalf("error %v, want one on headers saying %q", err, c.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("the error quotes a header value: %v", err)
			}
		})
	}
}
