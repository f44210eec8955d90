package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

// configureInstance configures an instance of a target with a pool,
// as main does, and returns it.
func configureInstance(t *testing.T, s settingsMap) sdk.Instance {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	in, err := target{pool: httpclient.NewPool()}.Configure(context.Background(), sdk.ConfigureRequest{Instance: instanceName, Settings: raw, Logger: hclog.NewNullLogger()})
	if err != nil {
		t.Fatalf("configure %v: %v", s, err)
	}
	return in
}

// TestConcurrentBeatsSendWholeRequests checks that beats sent at once by
// one instance, which share the prepared URL, headers and body, each send
// the whole request and change nothing the others use (run with -race).
func TestConcurrentBeatsSendWholeRequests(t *testing.T) {
	const body = `{"status":"up"}`
	var mu sync.Mutex
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, request{Method: r.Method, Path: r.URL.RequestURI(), Host: r.Host, Header: r.Header.Clone(), Body: string(b)})
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	in := configureInstance(t, settingsMap{
		"url":     srv.URL + "/ping/" + secret + "?source=hb",
		"method":  "post",
		"body":    body,
		"headers": map[string]string{"Authorization": "Bearer " + secret, "content-type": "application/json", "Host": "status.example.com"},
	})
	const beats = 32
	var wg sync.WaitGroup
	errs := make(chan error, beats)
	for range beats {
		wg.Go(func() {
			_, err := in.Beat(context.Background(), sdk.Beat{Heartbeat: "butler-sos", Signal: sdk.SignalSuccess, Sequence: 1, Attempt: 1})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != beats {
		t.Fatalf("the server got %d requests, want %d", len(got), beats)
	}
	for _, r := range got {
		if r.Method != "POST" || r.Path != "/ping/"+secret+"?source=hb" || r.Host != "status.example.com" || r.Body != body {
			t.Errorf("request %s %s Host %s body %q", r.Method, r.Path, r.Host, r.Body)
		}
		want := map[string]string{
			"Authorization":  "Bearer " + secret,
			"Content-Type":   "application/json",
			"Content-Length": "15",
			"User-Agent":     sdk.UserAgent(),
		}
		for name, value := range want {
			if vs := r.Header.Values(name); len(vs) != 1 || vs[0] != value {
				t.Errorf("%s = %q, want %q", name, vs, value)
			}
		}
	}
}

// TestRedirectSendsBodyAgain checks that a redirect that keeps the method
// (307, 308) on the same server gets the body again.
func TestRedirectSendsBodyAgain(t *testing.T) {
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			const body = "alive"
			var mu sync.Mutex
			var moved []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				if r.URL.Path == "/moved" {
					mu.Lock()
					moved = append(moved, r.Method+" "+string(b))
					mu.Unlock()
					return
				}
				http.Redirect(w, r, "/moved", code)
			}))
			t.Cleanup(srv.Close)
			in := configureInstance(t, settingsMap{"url": srv.URL + "/ping", "method": "PUT", "body": body})
			for range 2 {
				if _, err := in.Beat(context.Background(), sdk.Beat{Heartbeat: "hb", Signal: sdk.SignalSuccess, Sequence: 1, Attempt: 1}); err != nil {
					t.Fatal(err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if len(moved) != 2 || moved[0] != "PUT "+body || moved[1] != "PUT "+body {
				t.Errorf("after the redirect the server got %q, want the body twice", moved)
			}
		})
	}
}
