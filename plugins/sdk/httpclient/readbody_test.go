package httpclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func TestReadBody(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", MaxBodyBytes/16+100)
	tests := []struct {
		name   string
		body   string
		length int64 // as the answer announced it; -1 unknown
	}{
		{"empty", "", 0},
		{"empty, length unknown", "", -1},
		{"short", "OK", 2},
		{"short, length unknown", "OK", -1},
		{"longer than announced", "OK (not found)", 2},
		{"shorter than announced", "OK", 14},
		{"over 512 bytes, length unknown", long[:3000], -1},
		{"the limit exactly", long[:MaxBodyBytes], MaxBodyBytes},
		{"the limit, length unknown", long[:MaxBodyBytes], -1},
		{"over the limit", long, int64(len(long))},
		{"over the limit, length unknown", long, -1},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":       func(r io.Reader) io.Reader { return r },
		"byte a time": iotest.OneByteReader,
		"half":        iotest.HalfReader,
		"EOF in data": iotest.DataErrReader,
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				want, _ := io.ReadAll(io.LimitReader(strings.NewReader(tt.body), MaxBodyBytes))
				got, err := readBody(wrap(strings.NewReader(tt.body)), tt.length)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("read %d bytes, want %d", len(got), len(want))
				}
				if got == nil {
					t.Error("an empty body read as nil, want empty")
				}
			})
		}
	}
}

func TestReadBodyError(t *testing.T) {
	broken := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("OK"), iotest.ErrReader(broken))
	got, err := readBody(r, 10)
	if !errors.Is(err, broken) || string(got) != "OK" {
		t.Errorf("readBody = %q, %v; want the bytes read and %v", got, err, broken)
	}
}

func TestReadBodyAllocatesOnceForAnnouncedLength(t *testing.T) {
	var r strings.Reader
	n := testing.AllocsPerRun(100, func() {
		r.Reset("OK")
		if _, err := readBody(&r, 2); err != nil {
			t.Fatal(err)
		}
	})
	if n != 1 {
		t.Errorf("readBody of an announced 2-byte body allocates %v times, want 1", n)
	}
}

// Do may be given a Header shared by the requests of many beats: it sets
// the User-Agent on a copy, never on the caller's map.
func TestDoLeavesTheHeaderAlone(t *testing.T) {
	var gotUA string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUA = r.UserAgent()
	}))
	t.Cleanup(srv.Close)
	shared := http.Header{"X-Token": {"t"}}
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = shared
	if _, err := Do(context.Background(), srv.Client(), req); err != nil {
		t.Fatal(err)
	}
	if gotUA != sdk.UserAgent() {
		t.Errorf("the server saw User-Agent %q, want %q", gotUA, sdk.UserAgent())
	}
	if len(shared) != 1 || shared.Get("User-Agent") != "" {
		t.Errorf("Do changed the caller's header: %v", shared)
	}
}
