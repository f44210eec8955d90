package httpclient

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkDo measures Do with a keep-alive server on 127.0.0.1 answering
// a short body, under a context that ends before the client's timeout, as
// a beat's does. Run with -benchmem.
func BenchmarkDo(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "OK")
	}))
	b.Cleanup(srv.Close)
	client, err := New(2*time.Hour, TLSSettings{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/ping/token", nil)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := Do(ctx, client, req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatal(resp.StatusCode, err)
		}
	}
}
