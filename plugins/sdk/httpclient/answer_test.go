package httpclient_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk/httpclient"
)

func TestSummary(t *testing.T) {
	tests := []struct {
		name string
		code int
		body string
		want string
	}{
		{"short text", 202, "Got it, thanks!\n", "202 Got it, thanks!"},
		{"empty", 404, "", "404 Not Found"},
		{"page", 502, "<html>bad gateway</html>", "502 Bad Gateway"},
		{"document", 400, `{"error":"x"}`, "400 Bad Request"},
		{"long", 200, strings.Repeat("a", 81), "200 OK"},
		{"two lines", 200, "OK\nmore", "200 OK"},
		{"control character", 400, "\x1b[2Jbad", "400 Bad Request"},
		{"invalid UTF-8", 400, "bad \xff", "400 Bad Request"},
		{"unknown status, no text", 599, "", "599"},
		{"echoed secret", 403, "denied /p/" + secret, "403 denied /p/…4f5a"},
		{"echoed escaped secret", 403, "denied /p/a%20b" + secret, "403 denied /p/…4f5a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := httpclient.Summary(httpclient.Response{StatusCode: tt.code, Body: []byte(tt.body)}, "", "a b"+secret, secret)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStatusText(t *testing.T) {
	for code, want := range map[int]string{200: "200 OK", 404: "404 Not Found", 599: "599"} {
		if got := httpclient.StatusText(code); got != want {
			t.Errorf("%d: got %q, want %q", code, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
		ok     bool
	}{
		{"", 0, false},
		{"30", 30 * time.Second, true},
		{" 0 ", 0, true},
		{"-1", 0, false},
		{"604801", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, false},
		{now.Add(8 * 24 * time.Hour).Format(http.TimeFormat), 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.header != "" {
			h.Set("Retry-After", tt.header)
		}
		got, ok := httpclient.RetryAfter(h, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%q: got %s, %v; want %s, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}
