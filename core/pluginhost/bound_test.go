//go:build unix

package pluginhost

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func TestClip(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"short and clean", "200 OK", 16, "200 OK"},
		{"newline escaped", "a\nb", 16, `a\nb`},
		{"escape sequence", "\x1b[31mred", 32, `\u001b[31mred`},
		{"invalid utf-8", "a\xffb", 16, `a\xffb`},
		{"utf-8 kept", "héllo", 16, "héllo"},
		{"cut", strings.Repeat("x", 100), 10, "xxxxxxxxxx... (90 more bytes)"},
		{"cut never splits an escape", "abcdefghi\n", 10, `abcdefghi... (1 more bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clip(tt.in, tt.max); got != tt.want {
				t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func TestClipBoundsHugeInput(t *testing.T) {
	huge := strings.Repeat("x\n\x1b", 20<<20)
	if got := clip(huge, maxPluginText); len(got) > maxPluginText+64 {
		t.Errorf("clip kept %d bytes", len(got))
	}
}

func TestBoundError(t *testing.T) {
	many := make(sdk.FieldErrors, 1000)
	for i := range many {
		many[i] = sdk.FieldError{Field: strings.Repeat("f", 5000), Message: "bad\nvalue"}
	}
	tests := []struct {
		name     string
		in       error
		wantKind sdk.Kind
		check    func(t *testing.T, err error)
	}{
		{"kind kept, text bounded", sdk.NotFound(errors.New(strings.Repeat("e", 1<<20))), sdk.KindNotFound, func(t *testing.T, err error) {
			if len(err.Error()) > maxPluginText+64 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
		}},
		{"not configured stays", sdk.Errorf(sdk.KindNotConfigured, "gone"), sdk.KindNotConfigured, nil},
		{"oversized answer", sdk.RateLimited(errors.New("grpc: received message larger than max (52428810 vs. 1048576)")), sdk.KindPermanent, func(t *testing.T, err error) {
			if !strings.Contains(err.Error(), "more than 1048576 bytes") {
				t.Errorf("error = %v", err)
			}
		}},
		{"field errors bounded", many, sdk.KindTemporary, func(t *testing.T, err error) {
			var fes sdk.FieldErrors
			if !errors.As(err, &fes) || len(fes) != maxFieldErrors+1 {
				t.Fatalf("got %d field errors", len(fes))
			}
			if len(fes[0].Field) > maxPluginText+64 || strings.Contains(fes[0].Message, "\n") {
				t.Errorf("field error not bounded: %d bytes, %q", len(fes[0].Field), fes[0].Message)
			}
			if !strings.Contains(fes[maxFieldErrors].Message, "936 more") {
				t.Errorf("last = %+v", fes[maxFieldErrors])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := boundError(tt.in)
			if _, isFields := tt.in.(sdk.FieldErrors); !isFields && sdk.KindOf(err) != tt.wantKind {
				t.Errorf("kind %s, want %s", sdk.KindOf(err), tt.wantKind)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
		})
	}
}

func TestBoundInfo(t *testing.T) {
	long := strings.Repeat("d", 1<<20)
	in := sdk.Info{Name: "x", Version: long, Description: "a\nb"}
	for range 1000 {
		in.Settings = append(in.Settings, sdk.SettingInfo{Name: long, Description: long})
	}
	got := boundInfo(in)
	if len(got.Version) > maxPluginText+64 || got.Description != `a\nb` || len(got.Settings) != maxInfoEntries {
		t.Errorf("Info not bounded: version %d bytes, description %q, %d settings", len(got.Version), got.Description, len(got.Settings))
	}
	if len(got.Settings[0].Name) > maxPluginText+64 {
		t.Errorf("setting name of %d bytes", len(got.Settings[0].Name))
	}
}

func TestLineLimiter(t *testing.T) {
	logs := &syncBuffer{}
	clock := &fakeNow{t: time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)}
	l := newLineLimiter("noisy", hclog.New(&hclog.LoggerOptions{Output: logs}))
	l.now = clock.now
	l.interval = time.Hour // reported by flush below, not the timer

	allowed := 0
	for range 2000 {
		if l.allow() {
			allowed++
		}
	}
	if allowed != logLineBurst {
		t.Errorf("%d lines allowed at once, want the burst of %d", allowed, logLineBurst)
	}
	clock.add(2 * time.Second)
	allowed = 0
	for range 2000 {
		if l.allow() {
			allowed++
		}
	}
	if allowed != 2*logLinesPerSecond {
		t.Errorf("%d lines allowed after 2s, want %d", allowed, 2*logLinesPerSecond)
	}
	l.flush()
	want := fmt.Sprintf("dropped %d lines from plugin noisy", 4000-logLineBurst-2*logLinesPerSecond)
	if !strings.Contains(logs.String(), want) {
		t.Errorf("report missing %q:\n%s", want, logs)
	}
	l.flush()
	if n := strings.Count(logs.String(), "lines from plugin noisy"); n != 1 {
		t.Errorf("%d reports, want 1 (nothing dropped since)", n)
	}
}

func TestLineLimiterReportsOncePerInterval(t *testing.T) {
	logs := &syncBuffer{}
	l := newLineLimiter("noisy", hclog.New(&hclog.LoggerOptions{Output: logs}))
	l.interval = 50 * time.Millisecond
	l.tokens, l.burst = 0, 0
	for range 100 {
		l.allow()
	}
	waitFor(t, "the report", func() bool { return strings.Contains(logs.String(), "dropped 100 lines") })
	l.mu.Lock()
	idle := l.timer == nil
	l.mu.Unlock()
	if !idle {
		t.Errorf("a report timer is left while nothing is dropped")
	}
}

func TestLineLogger(t *testing.T) {
	logs := &syncBuffer{}
	limit := newLineLimiter("p", hclog.NewNullLogger())
	w := &lineLogger{logger: &limitedLogger{Logger: hclog.New(&hclog.LoggerOptions{Output: logs}), limit: limit}, level: hclog.Warn}
	long := strings.Repeat("y", 3*maxLogLine)
	for _, chunk := range []string{"first li", "ne\r\n", long[:maxLogLine/2], long[maxLogLine/2:], "\nlast\n", "\x1b[2Jclear\n"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(lines), logs)
	}
	if !strings.HasSuffix(lines[0], "first line") {
		t.Errorf("line 1 = %q", lines[0])
	}
	if !strings.Contains(lines[1], cutLineNote) || len(lines[1]) > maxLogLine+200 {
		t.Errorf("the long line is not cut: %d bytes", len(lines[1]))
	}
	if !strings.HasSuffix(lines[2], "last") {
		t.Errorf("line 3 = %q", lines[2])
	}
	if strings.Contains(lines[3], "\x1b") {
		t.Errorf("control characters reached the log: %q", lines[3])
	}
}

func TestLimitedLogger(t *testing.T) {
	logs := &syncBuffer{}
	oom := &atomic.Bool{}
	l := (&limitedLogger{Logger: hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Info}), limit: newLineLimiter("p", hclog.NewNullLogger()), outOfMemory: oom}).Named("plugin")
	var args []any
	for i := range 100 {
		args = append(args, fmt.Sprintf("k%d", i), strings.Repeat("v", 10000))
	}
	l.Info("many fields", args...)
	l.Debug("fatal error: runtime: cannot allocate memory")
	out := logs.String()
	if len(out) > 2*maxLogPairs*(maxLogLine+64) || !strings.Contains(out, "fields_cut=68") {
		t.Errorf("fields not bounded: %d bytes", len(out))
	}
	if strings.Contains(out, "cannot allocate") {
		t.Errorf("a debug line passed an info logger")
	}
	if !oom.Load() {
		t.Errorf("running out of memory went unnoticed")
	}
}
