package fakeserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestLog(t *testing.T) {
	var l Log[int]
	if _, ok := l.LastRequest(); ok {
		t.Error("an empty log has a last request")
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); l.Record(i) }()
	}
	wg.Wait()
	l.Record(99)
	got := l.Requests()
	if len(got) != 51 {
		t.Fatalf("%d requests, want 51", len(got))
	}
	got[50] = -1 // a copy: the log keeps its own
	if last, ok := l.LastRequest(); !ok || last != 99 {
		t.Errorf("last %d, %v", last, ok)
	}
}

func TestFaults(t *testing.T) {
	var f Faults
	var h RetryAfterHeader
	if f.Outage() != 0 || h.RetryAfter() != "" {
		t.Error("the zero value has faults")
	}
	f.SetOutage(503)
	h.SetRetryAfter("30")
	if f.Outage() != 503 || h.RetryAfter() != "30" {
		t.Errorf("outage %d, retry after %q", f.Outage(), h.RetryAfter())
	}
	if !f.Wait(context.Background()) {
		t.Error("no delay, yet the client left")
	}
	f.SetDelay(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if f.Wait(ctx) {
		t.Error("the client left, yet Wait says it is there")
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("Wait took %s after the client left", d)
	}
}

func TestHTTP(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		h := Start(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }), useTLS)
		pemBytes := h.CACertPEM()
		if useTLS != (pemBytes != nil) {
			t.Errorf("tls %v: CA %q", useTLS, pemBytes)
		}
		client := &http.Client{Timeout: 30 * time.Second}
		if useTLS {
			// Trusting the CA it hands out is enough to reach it.
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pemBytes) {
				t.Fatal("the CA is not PEM")
			}
			client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
		}
		if useTLS {
			if resp, err := h.Client().Get(h.URL()); err != nil {
				t.Errorf("Client: %v", err)
			} else {
				_ = resp.Body.Close()
			}
		}
		resp, err := client.Get(h.URL())
		if err != nil {
			t.Fatalf("tls %v: %v", useTLS, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("status %d", resp.StatusCode)
		}
		h.Close()
	}
}

func TestWriteText(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteText(rec, http.StatusTooManyRequests, "slow down", http.Header{"Retry-After": {"60"}, "Content-Type": {"text/html"}})
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 429 || string(body) != "slow down" || res.Header.Get("Retry-After") != "60" ||
		res.Header.Get("Content-Length") != "9" || res.Header.Get("Content-Type") != "text/html" {
		t.Errorf("got %d %q %v", res.StatusCode, body, res.Header)
	}
}
