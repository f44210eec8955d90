package conformance

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestLooksSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"token": true, "api_key": true, "Password": true, "uuid": true, "sentry_dsn": true, "client_secret": true,
		"url": false, "timeout": false, "level": false, "slug": false,
	} {
		if got := looksSecret(name); got != want {
			t.Errorf("looksSecret(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestClipBoundsAndEscapes(t *testing.T) {
	got := clip("a\nb\x1b[31m" + strings.Repeat("x", 5000))
	if strings.ContainsAny(got, "\n\x1b") || len(got) > 320 || !strings.HasPrefix(got, `a\nb\x1b[31m`) {
		t.Errorf("clip = %q", got)
	}
}

// The plugin sees the shown deadline; the caller waits on the context's.
func TestDeadlineContextShowsItsOwnDeadline(t *testing.T) {
	wait, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	shown := time.Now().Add(time.Second)
	ctx := deadlineContext{Context: wait, shown: shown}
	if d, ok := ctx.Deadline(); !ok || !d.Equal(shown) {
		t.Errorf("Deadline() = %v, %v", d, ok)
	}
	if ctx.Err() != nil {
		t.Error("done before its context")
	}
}
