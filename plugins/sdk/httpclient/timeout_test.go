package httpclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Do holds a request to the client's timeout, or to its context's
// deadline when that comes first, through the headers and the body.
func TestDoTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-body" {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	tests := []struct {
		name    string
		path    string
		timeout time.Duration
		ctx     time.Duration // the context's deadline; 0: none
	}{
		{"no headers, the client's timeout", "/hang", 200 * time.Millisecond, 0},
		{"no headers, the context ends later", "/hang", 200 * time.Millisecond, time.Hour},
		{"no headers, the context ends first", "/hang", time.Hour, 200 * time.Millisecond},
		{"half a body, the client's timeout", "/slow-body", 200 * time.Millisecond, 0},
		{"half a body, the context ends first", "/slow-body", time.Hour, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, err := New(tt.timeout, TLSSettings{})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+tt.path+"?token=s3cret", nil)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := Do(ctx, client, req)
				done <- err
			}()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("Do did not end at its timeout")
			}
			if err == nil || sdk.KindOf(err) != sdk.KindTemporary {
				t.Fatalf("err = %v (kind %v), want a temporary error", err, sdk.KindOf(err))
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the secret: %v", err)
			}
			if tt.path == "/hang" && !strings.Contains(err.Error(), "no answer before the timeout") {
				t.Errorf("err = %v, want it to say the timeout passed", err)
			}
			if client.Timeout != tt.timeout {
				t.Errorf("Do changed the client's timeout to %v", client.Timeout)
			}
		})
	}
}
