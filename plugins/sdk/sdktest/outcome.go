package sdktest

import (
	"strings"
	"testing"
	"unicode"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

// Success is the kind CheckOutcome wants of a beat that succeeds.
const Success = sdk.Kind(-1)

// maxErrorBytes bounds an error CheckOutcome accepts: a message a user
// reads, not a quoted answer.
const maxErrorBytes = 1000

// CheckOutcome checks what a beat came to. With kind Success the beat
// must have succeeded with a Detail holding every wording. Otherwise it
// must have failed with an error of that kind holding every wording, on
// one line of at most 1000 bytes without control characters or < (a
// quoted page), and without secret when secret is not empty.
func CheckOutcome(t testing.TB, res sdk.Result, err error, kind sdk.Kind, secret string, wordings ...string) {
	t.Helper()
	if kind == Success {
		if err != nil {
			t.Fatalf("failed: %v", err)
		}
		for _, w := range wordings {
			if !strings.Contains(res.Detail, w) {
				t.Errorf("detail %q lacks %q", res.Detail, w)
			}
		}
		return
	}
	if err == nil {
		t.Fatalf("succeeded with detail %q; want %s", res.Detail, kind)
	}
	msg := err.Error()
	if got := sdk.KindOf(err); got != kind {
		t.Errorf("kind %s, want %s (%v)", got, kind, err)
	}
	for _, w := range wordings {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q lacks %q", msg, w)
		}
	}
	if len(msg) > maxErrorBytes || strings.ContainsFunc(msg, unicode.IsControl) || strings.Contains(msg, "<") {
		t.Errorf("error is not one short plain line: %q", cut(msg, 300))
	}
	if secret != "" && strings.Contains(msg, secret) {
		t.Errorf("error shows the secret: %q", cut(msg, 300))
	}
}
