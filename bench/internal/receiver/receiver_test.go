package receiver

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestReceiverRecordsPerHeartbeat(t *testing.T) {
	r, err := Start(5, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	get := func(url string) int {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, i := range []int{3, 3, 0, 4} {
		if code := get(r.URL(i)); code != http.StatusOK {
			t.Fatalf("GET %s: %d, want 200", r.URL(i), code)
		}
	}
	for _, odd := range []string{"/b/5", "/b/", "/b/x1", "/other", "/b/-1", "/b/12345678901"} {
		if code := get("http://" + r.Addr() + odd); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", odd, code)
		}
	}
	a := r.Arrivals()
	want := []int{1, 0, 0, 2, 1}
	for i, n := range want {
		if len(a[i]) != n {
			t.Errorf("heartbeat %d: %d arrivals, want %d", i, len(a[i]), n)
		}
	}
	if len(a[3]) == 2 && a[3][1] < a[3][0] {
		t.Errorf("arrivals out of order: %v", a[3])
	}
	if r.Count() != 4 || r.Odd() != 6 {
		t.Errorf("Count, Odd = %d, %d; want 4, 6", r.Count(), r.Odd())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, ok := r.WaitAll(ctx, nil); ok {
		t.Error("WaitAll returned with heartbeats 1 and 2 silent")
	}
	get(r.URL(1))
	get(r.URL(2))
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Minute)
	defer cancel2()
	if _, ok := r.WaitAll(ctx2, nil); !ok {
		t.Error("WaitAll did not return with every heartbeat heard from")
	}
}

func TestReceiverRawRequests(t *testing.T) {
	r, err := Start(2, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tests := []struct {
		name, send string
		want       string // the status lines answered, in order
		recorded   int    // arrivals of heartbeat 1 after this case
	}{
		{"two on one connection, the second with a body",
			"GET /b/1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /b/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
			"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 2},
		{"chunked is refused", "POST /b/1 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
			"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 2},
		{"no method", "garbage\r\n\r\n",
			"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 2},
		{"connection close", "GET /b/1 HTTP/1.1\r\nConnection: close\r\n\r\nGET /b/1 HTTP/1.1\r\n\r\n",
			"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", r.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write([]byte(tt.send)); err != nil {
				t.Fatal(err)
			}
			if cw, ok := c.(*net.TCPConn); ok && tt.name != "two on one connection, the second with a body" {
				_ = cw.CloseWrite()
			}
			_ = c.SetReadDeadline(time.Now().Add(time.Minute))
			got := make([]byte, len(tt.want)+64)
			n, _ := io.ReadAtLeast(c, got, len(tt.want))
			if string(got[:n]) != tt.want {
				t.Fatalf("answered %q, want %q", got[:n], tt.want)
			}
			if a := r.Arrivals()[1]; len(a) != tt.recorded {
				t.Errorf("heartbeat 1 has %d arrivals, want %d", len(a), tt.recorded)
			}
		})
	}
}
