package status

import (
	"testing"
	"unicode/utf8"
)

// FuzzOneLine holds OneLine's shortcut for strings already one line to
// the full rewrite, and checks what every result must be.
func FuzzOneLine(f *testing.F) {
	for _, s := range []string{"", "200 OK", " lead", "trail ", "two  spaces", "tab\there", "line\nbreak", "caf\u00e9", "\xff", "a b c"} {
		f.Add(s, 8)
		f.Add(s, 200)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max > 1<<16 {
			max = 1 << 16
		}
		got := OneLine(s, max)
		if max <= 0 {
			if got != "" {
				t.Fatalf("OneLine(%q, %d) = %q, want nothing", s, max, got)
			}
			return
		}
		if want := oneLine(s, max); got != want {
			t.Fatalf("OneLine(%q, %d) = %q, the full rewrite gives %q", s, max, got, want)
		}
		if len(got) > max {
			t.Fatalf("OneLine(%q, %d) = %q: %d bytes, more than %d", s, max, got, len(got), max)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("OneLine(%q, %d) = %q: not valid UTF-8", s, max, got)
		}
	})
}
