package sdk_test

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/seed-e9b80cf6/heartbeat/plugins/sdk"
)

func TestFitText(t *testing.T) {
	marker := func(cut int) string { return fmt.Sprintf("\n[%d cut]\n", cut) }
	tests := []struct {
		name       string
		head, tail string
		limit      int
		want       string
	}{
		{"fits", "msg", "out", 100, "msg\nout"},
		{"head only", "msg", "", 100, "msg"},
		{"tail only", "", "out", 100, "out"},
		{"empty", "", "", 100, ""},
		{"exactly", "msg", "out", 7, "msg\nout"},
		{"cut in the middle", "HEAD", strings.Repeat("x", 50) + "END", 40, "HEAD\n[28 cut]\n" + strings.Repeat("x", 23) + "END"},
		{"long head keeps half the room", strings.Repeat("h", 100), "END", 40, strings.Repeat("h", 14) + "\n[75 cut]\n" + strings.Repeat("h", 11) + "\nEND"},
		{"too small for a marker", "HEAD", strings.Repeat("x", 50), 20, "HEAD\n" + strings.Repeat("x", 15)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(sdk.FitText(tt.head, []byte(tt.tail), tt.limit, 16, marker))
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if len(got) > tt.limit {
				t.Errorf("%d bytes, limit %d", len(got), tt.limit)
			}
		})
	}
}

// Cuts never split a character, whatever the limit.
func TestFitTextUTF8(t *testing.T) {
	head, tail := strings.Repeat("é", 30), []byte(strings.Repeat("日本", 40))
	marker := func(cut int) string { return fmt.Sprintf(" [%d] ", cut) }
	for limit := 0; limit < 300; limit++ {
		got := sdk.FitText(head, tail, limit, 8, marker)
		if len(got) > limit || !utf8.Valid(got) {
			t.Fatalf("limit %d: %d bytes, valid %v: %q", limit, len(got), utf8.Valid(got), got)
		}
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		" ok \n":                 "ok",
		"a\r\nb\tc\x1b[2J":       "a  b c [2J",
		"bad \xff byte":          "bad \uFFFD byte",
		"\x00\x07 keep  spaces ": "keep  spaces",
	} {
		if got := sdk.OneLine(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
