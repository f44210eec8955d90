package check

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHTTPCheck(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			_, _ = w.Write([]byte(strings.Repeat("x", 512<<10) + "status: ok"))
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("database unreachable"))
		case "/slow":
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	tests := []struct {
		name    string
		spec    Spec
		ok      bool
		message string
		output  string
	}{
		{"2xx", Spec{HTTP: srv.URL + "/ok"}, true, "answered 200 OK", ""},
		{"expected text found past the kept output", Spec{HTTP: srv.URL + "/ok", Expect: "status: ok"}, true, "200 OK", ""},
		{"expected text missing", Spec{HTTP: srv.URL + "/ok", Expect: "healthy"}, false, `without the expected "healthy"`, "status: ok"},
		{"5xx", Spec{HTTP: srv.URL + "/down"}, false, "answered 503 Service Unavailable", "database unreachable"},
		{"timeout", Spec{HTTP: srv.URL + "/slow", Timeout: 100 * time.Millisecond}, false, "no answer within 100ms", ""},
		{"refused", Spec{HTTP: "http://127.0.0.1:1/health"}, false, "connection refused", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Runner{}.Run(context.Background(), tt.spec)
			if res.OK != tt.ok || !strings.Contains(res.Message, tt.message) {
				t.Errorf("got ok=%v %q, want ok=%v containing %q", res.OK, res.Message, tt.ok, tt.message)
			}
			if !strings.Contains(string(res.Output), tt.output) {
				t.Errorf("output (%d bytes, ends %q) lacks %q", len(res.Output), tail(res.Output), tt.output)
			}
			if len(res.Output) > MaxOutput+100 {
				t.Errorf("kept %d bytes of output", len(res.Output))
			}
			if res.Latency <= 0 {
				t.Error("no latency measured")
			}
		})
	}
}

func TestCommandCheck(t *testing.T) {
	tests := []struct {
		name     string
		argv     []string
		timeout  time.Duration
		ok       bool
		exitCode int // -1: none
		message  string
		output   string
	}{
		{"exit 0", []string{"sh", "-c", "echo fine"}, 0, true, 0, "succeeded", "fine"},
		{"exit 3", []string{"sh", "-c", "echo broken >&2; exit 3"}, 0, false, 3, "exited with status 3", "broken"},
		{"no shell: arguments stay literal", []string{"echo", "$HOME", ";", "false"}, 0, true, 0, "succeeded", "$HOME ; false"},
		{"hangs", []string{"sleep", "30"}, 200 * time.Millisecond, false, -1, "did not finish within 200ms", ""},
		{"hangs with a child holding the output", []string{"sh", "-c", "sleep 30 & sleep 30"}, 200 * time.Millisecond, false, -1, "did not finish", ""},
		{"prints megabytes", []string{"sh", "-c", "yes line | head -c 20000000; echo THE-END"}, 0, true, 0, "succeeded", "THE-END"},
		{"missing program", []string{"/nonexistent/check"}, 0, false, -1, "could not run", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := Runner{}.Run(context.Background(), Spec{Command: tt.argv, Timeout: tt.timeout})
			if res.OK != tt.ok || !strings.Contains(res.Message, tt.message) {
				t.Errorf("got ok=%v %q, want ok=%v containing %q", res.OK, res.Message, tt.ok, tt.message)
			}
			switch {
			case tt.exitCode < 0 && res.ExitCode != nil:
				t.Errorf("exit code %d, want none", *res.ExitCode)
			case tt.exitCode >= 0 && (res.ExitCode == nil || *res.ExitCode != tt.exitCode):
				t.Errorf("exit code %v, want %d", res.ExitCode, tt.exitCode)
			}
			if !strings.Contains(string(res.Output), tt.output) {
				t.Errorf("output (%d bytes) lacks %q", len(res.Output), tt.output)
			}
			if len(res.Output) > MaxOutput+100 {
				t.Errorf("kept %d bytes of output", len(res.Output))
			}
			if tt.timeout > 0 && time.Since(start) > 10*time.Second {
				t.Errorf("a %s timeout took %s", tt.timeout, time.Since(start))
			}
		})
	}
}

func TestTailBuffer(t *testing.T) {
	tb := &tailBuffer{max: 10}
	for _, s := range []string{"abc", "defghij", "klm"} {
		_, _ = tb.Write([]byte(s))
	}
	if got := string(tb.Bytes()); got != "[…earlier output dropped]\ndefghijklm" {
		t.Errorf("got %q", got)
	}
}

func tail(b []byte) string {
	if len(b) > 80 {
		b = b[len(b)-80:]
	}
	return string(b)
}

// A check cut by its caller (the daemon stopping) is reported as cut
// short, not as a failure of the service; its own timeout still is one.
func TestCheckCutShort(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	tests := []struct {
		name      string
		spec      Spec
		cancel    bool
		wantCut   bool
		wantInMsg string
	}{
		{"command cut by the caller", Spec{Command: []string{"sleep", "30"}, Timeout: time.Minute}, true, true, "cut short"},
		{"command past its timeout", Spec{Command: []string{"sleep", "30"}, Timeout: 200 * time.Millisecond}, false, false, "did not finish within 200ms"},
		{"HTTP cut by the caller", Spec{HTTP: hang.URL, Timeout: time.Minute}, true, true, "cut short"},
		{"HTTP past its timeout", Spec{HTTP: hang.URL, Timeout: 200 * time.Millisecond}, false, false, "no answer within 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				time.AfterFunc(200*time.Millisecond, cancel)
			}
			start := time.Now()
			res := Runner{}.Run(ctx, tt.spec)
			if res.OK || res.Canceled != tt.wantCut || !strings.Contains(res.Message, tt.wantInMsg) {
				t.Errorf("got ok=%v canceled=%v %q; want canceled=%v, message containing %q", res.OK, res.Canceled, res.Message, tt.wantCut, tt.wantInMsg)
			}
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("took %s", took)
			}
		})
	}
}
